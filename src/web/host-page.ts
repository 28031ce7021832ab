import type { FastifyInstance } from 'fastify';
import { ALL_PERMISSIONS, READ_ONLY } from '../auth/tokens.ts';
import type { Editor } from '../discovery/editor.ts';
import { EVENT } from '../documents/events.ts';
import type { WopiHost } from '../wopi/context.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';
import { escapeHtml, renderDocument, sendPage, sendProblem } from './shell.ts';

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
      if (!user) return sendProblem(reply, 401, 'Sign in required', 'Sign in to open documents.');
      const file = await host.storage.catalog.getFile(request.params.id);
      if (!file) return sendProblem(reply, 404, 'No such document', 'It may have been deleted or renamed.');
      const asked = request.query.action;
      const wanted = asked === 'view' || asked === 'editnew' ? asked : 'edit';
      if (!editor.configured) {
        return sendProblem(
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
        return sendProblem(
          reply,
          502,
          'The editor cannot be reached',
          `Quire could not read the editor's discovery: ${escapeHtml((err as Error).message)}`,
        );
      }
      if (!resolved) {
        return sendProblem(reply, 415, 'Not supported', `The editor cannot open ${escapeHtml(file.name)}.`);
      }
      const readOnly = resolved.action.name === 'view' || resolved.action.name === 'embedview';
      const minted = await host.tokens.mint({
        fileId: file.id,
        userId: user.id,
        userName: user.displayName,
        permissions: readOnly ? READ_ONLY : ALL_PERMISSIONS,
        ...(user.isAdmin && { isAdmin: true }),
      });
      const agent = request.headers['user-agent'];
      await host.storage.events.append(
        {
          type: EVENT.opened,
          fileId: file.id,
          userId: user.id,
          userName: user.displayName,
          address: request.ip,
          ...(typeof agent === 'string' && { client: agent }),
          details: { action: resolved.action.name, readOnly },
        },
        host.clock.now(),
      );
      const editorOrigin = new URL(resolved.url).origin;
      const favicon = resolved.action.favIconUrl
        ? `<link rel="icon" href="${escapeHtml(resolved.action.favIconUrl)}">`
        : '';
      const id = encodeURIComponent(file.id);
      const html = renderDocument({
        title: `${file.name} – Quire`,
        viewport: 'width=device-width, initial-scale=1, maximum-scale=1, minimum-scale=1, user-scalable=no',
        stylesheet: false,
        head: `${favicon}<style>
html, body { margin: 0; padding: 0; height: 100%; overflow: hidden; font-family: system-ui, sans-serif; }
#editor_frame { display: block; width: 100%; height: 100%; border: 0; }
#editor_status:empty { display: none; }
#editor_status { position: absolute; top: 0; left: 0; right: 0; padding: .5rem 1rem; background: #fffbe6; }
</style>`,
        bodyAttributes: { 'data-editor-state': 'starting' },
        body: `<p id="editor_status" role="status" aria-live="polite"></p>
<form id="editor_form" name="editor_form" target="editor_frame" action="${escapeHtml(resolved.url)}" method="post">
<input name="access_token" value="${escapeHtml(minted.access_token)}" type="hidden">
<input name="access_token_ttl" value="${minted.access_token_ttl}" type="hidden">
</form>
<iframe id="editor_frame" name="editor_frame" title="${escapeHtml(file.name)} in the editor" allowfullscreen
  allow="clipboard-read; clipboard-write; fullscreen; autoplay; camera; microphone; display-capture"
  sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox allow-downloads allow-modals"></iframe>
<script src="/static/host-page.js" data-editor-origin="${escapeHtml(editorOrigin)}"
  data-close-url="/" data-edit-url="/files/${id}/open?action=edit" data-versions-url="/files/${id}"></script>`,
      });
      return sendPage(reply, { kind: 'host', editorOrigin }, html);
    },
  );
}
