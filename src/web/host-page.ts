import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { atLeast, COMMENT_ONLY_FLAVOURS, permissionsOf } from '../access/roles.ts';
import { renderWatermark } from '../access/secure-view.ts';
import type { MintedToken } from '../auth/tokens.ts';
import type { Editor, HostPageAction } from '../discovery/editor.ts';
import { EVENT } from '../documents/events.ts';
import type { FileRecord } from '../storage/types.ts';
import type { WopiHost } from '../wopi/context.ts';
import { currentSignIn, currentUser, requireUser, type SessionOptions } from './session.ts';
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
      const signInId = await currentSignIn(request, sessions);
      if (!user) return sendProblem(reply, 401, 'Sign in required', 'Sign in to open documents.');
      const file = await host.storage.catalog.getFile(request.params.id);
      const access = file && (await host.access.accessTo({ kind: 'user', user }, file));
      // a document one may not see does not exist for them
      if (!file || !access) {
        return sendProblem(reply, 404, 'No such document', 'It may have been deleted, renamed or not shared with you.');
      }
      const asked = request.query.action;
      const commentOnlyEditor = COMMENT_ONLY_FLAVOURS.includes(host.flavour());
      // a commenter opens the editor's edit action where it has a comment-only mode (ONLYOFFICE offers it there only)
      const mayEdit = atLeast(access.role, 'editor') || (access.role === 'commenter' && commentOnlyEditor);
      // viewers (and commenters elsewhere) open the viewer whatever the link asked for
      const wanted = !mayEdit ? 'view' : asked === 'view' || asked === 'editnew' ? asked : 'edit';
      return openInEditor(reply, request, {
        host,
        editor,
        file,
        wanted,
        mayEdit,
        urls: {
          close: '/',
          edit: `/files/${encodeURIComponent(file.id)}/open?action=edit`,
          versions: `/files/${encodeURIComponent(file.id)}`,
        },
        mint: (readOnly) => {
          // the token carries the role (a view action opened by an editor still only reads) and the sign-in it
          // came from, so signing out, or losing the share, ends it
          const role = readOnly && mayEdit ? 'viewer' : access.role;
          return host.tokens.mint({
            fileId: file.id,
            userId: user.id,
            userName: user.displayName,
            role,
            permissions: permissionsOf(role, { commentOnlyEditor }),
            ...(user.isAdmin && { isAdmin: true }),
            ...(signInId !== undefined && { signInId }),
            // however they signed in (password, single sign-on, a proxy's header, the embedding app), the token
            // lasts only while their account and their access stand
            account: true,
            ...(access.secureView && {
              watermark: renderWatermark(access.secureView.watermark, user, host.clock.now()),
            }),
          });
        },
        opened: { userId: user.id, userName: user.displayName },
      });
    },
  );
}

/** Where the host page's buttons lead: closing the editor, switching to edit, the version history (if any). */
export interface HostPageUrls {
  close: string;
  edit: string;
  versions?: string | undefined;
}

/**
 * Answers the host page for `file`: resolves the editor's action, mints the token (`mint`, told whether the action
 * only reads), records the open, and sends the page that posts the token into the editor's frame. The signed-in
 * person's page and a link guest's page both end here.
 */
export async function openInEditor(
  reply: FastifyReply,
  request: FastifyRequest,
  input: {
    host: WopiHost;
    editor: Editor;
    file: FileRecord;
    wanted: HostPageAction;
    mayEdit: boolean;
    urls: HostPageUrls;
    mint: (readOnly: boolean) => Promise<MintedToken>;
    /** Who opens it, for the event log (and what else the event says, e.g. the link). */
    opened: { userId: string; userName: string; details?: Record<string, unknown> };
    /** Origins besides Quire's own that may frame the page (an integrator's, for web/embed.ts). */
    frameAncestors?: readonly string[] | undefined;
  },
): Promise<FastifyReply> {
  const { host, editor, file, wanted, mayEdit } = input;
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
  const readOnly = resolved.action.name === 'view' || resolved.action.name === 'embedview' || !mayEdit;
  const minted = await input.mint(readOnly);
  const agent = request.headers['user-agent'];
  await host.storage.events.append(
    {
      type: EVENT.opened,
      fileId: file.id,
      userId: input.opened.userId,
      userName: input.opened.userName,
      address: request.ip,
      ...(typeof agent === 'string' && { client: agent }),
      details: { action: resolved.action.name, readOnly, ...input.opened.details },
    },
    host.clock.now(),
  );
  const editorOrigin = new URL(resolved.url).origin;
  const favicon = resolved.action.favIconUrl
    ? `<link rel="icon" href="${escapeHtml(resolved.action.favIconUrl)}">`
    : '';
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
  data-close-url="${escapeHtml(input.urls.close)}" data-edit-url="${escapeHtml(input.urls.edit)}"${
    input.urls.versions ? ` data-versions-url="${escapeHtml(input.urls.versions)}"` : ''
  }></script>`,
  });
  return sendPage(reply, { kind: 'host', editorOrigin, frameAncestors: input.frameAncestors }, html);
}
