import type { FastifyInstance, FastifyReply } from 'fastify';
import { ALL_PERMISSIONS, READ_ONLY } from '../auth/tokens.ts';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { escapeHtml, page } from './html.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';

function problem(reply: FastifyReply, status: number, title: string, message: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(title, `<h1>${escapeHtml(title)}</h1><p>${message}</p><p><a href="/">Back to the documents</a></p>`));
}

/**
 * GET /files/{id}/open?action=edit|view — the host page: it POSTs a freshly minted access token (never in the URL)
 * into an iframe showing the editor's action URL, and reacts to the editor's postMessages.
 */
export function registerHostPage(
  app: FastifyInstance,
  { host, editor, sessions }: { host: WopiHost; editor: Editor; sessions: SessionOptions },
): void {
  app.get<{ Params: { id: string }; Querystring: { action?: string } }>(
    '/files/:id/open',
    { preHandler: requireUser(sessions) },
    async (request, reply) => {
      const user = await currentUser(request, sessions);
      if (!user) return problem(reply, 401, 'Sign in required', 'Sign in to open documents.');
      const file = await host.storage.catalog.getFile(request.params.id);
      if (!file) return problem(reply, 404, 'No such document', 'It may have been deleted or renamed.');
      const asked = request.query.action;
      const wanted = asked === 'view' || asked === 'editnew' ? asked : 'edit';
      if (!editor.configured) {
        return problem(
          reply,
          503,
          'No editor configured',
          'Start Quire with <code>--editor URL</code> (ONLYOFFICE Docs or Collabora Online) to open documents.',
        );
      }
      let resolved: Awaited<ReturnType<Editor['resolveAction']>>;
      try {
        resolved = await editor.resolveAction(file.name, wanted, { wopiSrc: host.urls.wopiSrc(file.id) });
      } catch (err) {
        request.log.warn({ err }, 'editor discovery failed');
        return problem(
          reply,
          502,
          'The editor cannot be reached',
          `Quire could not read the editor's discovery: ${escapeHtml((err as Error).message)}`,
        );
      }
      if (!resolved) {
        return problem(reply, 415, 'Not supported', `The editor cannot open ${escapeHtml(file.name)}.`);
      }
      const readOnly = resolved.action.name === 'view' || resolved.action.name === 'embedview';
      const minted = await host.tokens.mint({
        fileId: file.id,
        userId: user.id,
        userName: user.displayName,
        permissions: readOnly ? READ_ONLY : ALL_PERMISSIONS,
        ...(user.isAdmin && { isAdmin: true }),
      });
      const editorOrigin = new URL(resolved.url).origin;
      const favicon = resolved.action.favIconUrl
        ? `<link rel="icon" href="${escapeHtml(resolved.action.favIconUrl)}">`
        : '';
      const id = encodeURIComponent(file.id);
      const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1, minimum-scale=1, user-scalable=no">
<title>${escapeHtml(file.name)} – Quire</title>${favicon}
<style>
html, body { margin: 0; padding: 0; height: 100%; overflow: hidden; font-family: system-ui, sans-serif; }
#editor_frame { display: block; width: 100%; height: 100%; border: 0; }
#editor_status:empty { display: none; }
#editor_status { position: absolute; top: 0; left: 0; right: 0; padding: .5rem 1rem; background: #fffbe6; }
</style>
</head>
<body data-editor-state="starting">
<p id="editor_status" role="status" aria-live="polite"></p>
<form id="editor_form" name="editor_form" target="editor_frame" action="${escapeHtml(resolved.url)}" method="post">
<input name="access_token" value="${escapeHtml(minted.access_token)}" type="hidden">
<input name="access_token_ttl" value="${minted.access_token_ttl}" type="hidden">
</form>
<iframe id="editor_frame" name="editor_frame" title="${escapeHtml(file.name)} in the editor" allowfullscreen
  allow="clipboard-read; clipboard-write; fullscreen; autoplay; camera; microphone; display-capture"
  sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox allow-downloads allow-modals"></iframe>
<script src="/static/host-page.js" data-editor-origin="${escapeHtml(editorOrigin)}"
  data-close-url="/" data-edit-url="/files/${id}/open?action=edit" data-versions-url="/files/${id}"></script>
</body></html>`;
      return reply
        .type('text/html; charset=utf-8')
        .headers({
          'Cache-Control': 'no-store',
          'Referrer-Policy': 'no-referrer',
          'Content-Security-Policy': [
            "default-src 'self'",
            `frame-src ${editorOrigin}`,
            `form-action ${editorOrigin}`,
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            'img-src * data:',
            "frame-ancestors 'self'",
          ].join('; '),
        })
        .send(html);
    },
  );
}
