import type { FastifyInstance } from 'fastify';
import type { WopiHost } from '../wopi/context.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem">
${body}
</body></html>`;
}

/** The pages a person sees. For now: a status page and the host-page address editors are told about. */
export function registerPages(app: FastifyInstance, host: WopiHost): void {
  app.get('/healthz', async () => ({ ok: true }));

  app.get('/', async (_request, reply) => {
    const files = await host.storage.catalog.listFiles();
    const rows = files
      .map(
        (f) => `<li>${escapeHtml(f.name)} <small>(${f.size} bytes, id <code>${escapeHtml(f.id)}</code>)</small></li>`,
      )
      .join('\n');
    return reply
      .type('text/html; charset=utf-8')
      .send(page('Quire', `<h1>Quire</h1><p>${files.length} document(s).</p><ul>${rows}</ul>`));
  });

  app.get<{ Params: { id: string } }>('/files/:id/open', async (request, reply) => {
    const file = await host.storage.catalog.getFile(request.params.id);
    if (!file) return reply.code(404).type('text/html; charset=utf-8').send(page('Not found', '<h1>No such file</h1>'));
    return reply
      .code(501)
      .type('text/html; charset=utf-8')
      .send(
        page(
          file.name,
          `<h1>${escapeHtml(file.name)}</h1><p>This Quire has no editor configured, so the document cannot be opened here yet.</p>`,
        ),
      );
  });
}
