import type { FastifyInstance } from 'fastify';
import type { WopiHost } from '../wopi/context.ts';
import { escapeHtml, page } from './html.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';

/** The pages a person sees besides the host page: for now, the list of documents with links to open them. */
export function registerPages(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  app.get('/', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    const files = await host.storage.catalog.listFiles();
    const rows = files
      .map((f) => {
        const id = encodeURIComponent(f.id);
        return `<li>${escapeHtml(f.name)} <small>(${f.size} bytes)</small>
  <a href="/files/${id}/open?action=edit">Edit</a> · <a href="/files/${id}/open?action=view">View</a></li>`;
      })
      .join('\n');
    return reply.type('text/html; charset=utf-8').send(
      page(
        'Quire',
        `<h1>Quire</h1><p>Signed in as ${escapeHtml(user?.displayName ?? '')}.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<p>${files.length} document(s).</p><ul>${rows}</ul>`,
      ),
    );
  });
}
