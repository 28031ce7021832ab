import type { FastifyInstance, FastifyReply } from 'fastify';
import { apiKeyProblem } from '../access/api-keys.ts';
import { atLeast, COMMENT_ONLY_FLAVOURS, permissionsOf } from '../access/roles.ts';
import { verifyEmbedTicket } from '../auth/embed-ticket.ts';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { openInEditor } from './host-page.ts';
import type { SessionOptions } from './session.ts';
import { escapeHtml, renderCardPage, sendPage } from './shell.ts';

/**
 * The host page for an integrator's own user: `/embed/{file}?ticket=…`, the `hostPageUrl` that
 * POST /api/files/{id}/tokens answers, opened in the integrator's iframe without a Quire sign-in. The ticket is signed
 * and lasts minutes (auth/embed-ticket.ts); the page mints the access token itself and posts it to the editor, so no
 * long-lived credential is ever in a URL. The page may be framed by Quire and by the origins in `frameAncestors`.
 */
export function registerEmbed(
  app: FastifyInstance,
  {
    host,
    editor,
    sessions,
    frameAncestors,
  }: { host: WopiHost; editor: Editor; sessions: SessionOptions; frameAncestors: readonly string[] },
): void {
  // its own pages show inside the integrator's frame too, and lead nowhere: Quire's pages need a sign-in
  const framers = ["'self'", ...frameAncestors];
  const page = (reply: FastifyReply, status: number, title: string, message: string) =>
    sendPage(
      reply,
      { kind: 'plain', frameAncestors: framers },
      renderCardPage(`${title} – Quire`, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`),
      status,
    );

  app.get<{ Params: { id: string }; Querystring: { ticket?: string } }>('/embed/:id', async (request, reply) => {
    const fileId = request.params.id;
    const ticket = request.query.ticket
      ? await verifyEmbedTicket(request.query.ticket, fileId, sessions.secret, host.clock.now())
      : null;
    if (!ticket) {
      return page(
        reply,
        401,
        'This link has expired',
        'Links that open a document here work for a few minutes. Reload the page you came from to get a new one.',
      );
    }
    const key = await host.storage.apiKeys?.getKey(ticket.apiKeyId);
    const problem = key ? apiKeyProblem(key, host.clock.now()) : 'the API key is gone';
    if (problem) {
      request.log.info({ key: ticket.apiKeyId, problem }, 'embed ticket refused');
      return page(reply, 401, 'Access was withdrawn', 'The app that showed you this page can no longer open it.');
    }
    const file = await host.storage.catalog.getFile(fileId);
    if (!file) return page(reply, 404, 'No such document', 'It may have been deleted.');
    const commentOnlyEditor = COMMENT_ONLY_FLAVOURS.includes(host.flavour());
    const mayEdit = atLeast(ticket.role, 'editor') || (ticket.role === 'commenter' && commentOnlyEditor);
    // relative, so they hold under whatever path Quire is served at
    const here = `${encodeURIComponent(file.id)}?ticket=${encodeURIComponent(request.query.ticket as string)}`;
    return openInEditor(reply, request, {
      host,
      editor,
      file,
      wanted: mayEdit ? 'edit' : 'view',
      mayEdit,
      urls: { close: 'closed', edit: here },
      frameAncestors,
      mint: (readOnly) => {
        const role = readOnly ? 'viewer' : ticket.role;
        // never outlives the token the integrator was given with the URL
        const ttlMs = ticket.tokenExpiresAt - host.clock.now();
        return host.tokens.mint({
          fileId: file.id,
          userId: ticket.userId,
          userName: ticket.userName,
          role,
          permissions: permissionsOf(role, { commentOnlyEditor }),
          apiKeyId: ticket.apiKeyId,
          ttlMs,
          ...(ticket.watermark !== undefined && { watermark: ticket.watermark }),
        });
      },
      opened: { userId: ticket.userId, userName: ticket.userName, details: { apiKey: ticket.apiKeyId } },
    });
  });

  /** Where the editor's Close button leads inside an integrator's frame: nothing of Quire's to go back to. */
  app.get('/embed/closed', async (_request, reply) =>
    page(reply, 200, 'Document closed', 'You can close this view now.'),
  );
}
