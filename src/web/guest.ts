import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { linkProblem } from '../access/policy.ts';
import { atLeast, COMMENT_ONLY_FLAVOURS, permissionsOf } from '../access/roles.ts';
import { renderWatermark } from '../access/secure-view.ts';
import { checkGuestName, Sharing } from '../access/sharing.ts';
import { GUEST_PASS_TTL_MS, mintGuestPass, verifyGuestPass } from '../auth/guest-pass.ts';
import type { Editor } from '../discovery/editor.ts';
import type { ShareLink } from '../storage/types.ts';
import type { WopiHost } from '../wopi/context.ts';
import { openInEditor } from './host-page.ts';
import type { SessionOptions } from './session.ts';
import { at, escapeHtml, renderCardPage, sendPage, sendProblem } from './shell.ts';
import { readForm } from './sign-in.ts';

const PASS_COOKIE = 'quire_guest';
const ROLE_SENTENCE = { viewer: 'view', commenter: 'view and comment on', editor: 'edit' } as const;

/**
 * Share links for guests: /s/{link} asks for a name (and the link's password, if it has one), /s/{link}/open opens
 * the document in the editor with what the link gives. The same name on the same link is the same guest every time
 * (one cursor, one author); a guest who gives no name is anonymous. A disabled or expired link opens nothing, and
 * editors already open through it lose access within a second (access/revocation.ts).
 */
export function registerGuestLinks(
  app: FastifyInstance,
  { host, editor, sessions }: { host: WopiHost; editor: Editor; sessions: SessionOptions },
): void {
  const sharing = new Sharing(host.storage, host.clock);
  const path = (link: ShareLink) => `/s/${encodeURIComponent(link.id)}`;

  /** The link if it can be used now, else the page saying why not (and null). */
  const usableLink = async (reply: FastifyReply, id: string): Promise<ShareLink | null> => {
    const link = await host.storage.access?.getLink(id);
    if (!link || !(await host.storage.catalog.getFile(link.fileId))) {
      sendProblem(reply, 404, 'No such link', 'Check that you have the whole link, or ask for a new one.');
      return null;
    }
    const problem = linkProblem(link, host.clock.now());
    if (problem) {
      sendProblem(
        reply,
        410,
        'This link no longer works',
        `${escapeHtml(problem)}. Ask whoever shared it for a new one.`,
      );
      return null;
    }
    return link;
  };

  const passOf = async (request: FastifyRequest, link: ShareLink) => {
    const header = request.headers.cookie;
    const token = header ? app.parseCookie(header)[PASS_COOKIE] : undefined;
    return token ? verifyGuestPass(token, link.id, sessions.secret, host.clock.now()) : null;
  };

  const page = async (link: ShareLink, input: { name?: string; error?: string; field?: 'name' | 'password' } = {}) => {
    const file = await host.storage.catalog.getFile(link.fileId);
    const owner = file && (await host.storage.users?.findById(file.ownerId));
    const who = owner?.displayName ?? 'Someone';
    const parts = [
      `<h1>${escapeHtml(file?.name ?? 'A document')}</h1>`,
      `<p class="lede">${escapeHtml(who)} shared this document with anyone who has the link. You can ${
        ROLE_SENTENCE[link.role]
      } it.</p>`,
    ];
    if (link.secureView) parts.push('<p class="notice">It is shown for viewing only: no download, print or copy.</p>');
    if (input.error) parts.push(`<p class="notice error" id="guest-error" role="alert">${escapeHtml(input.error)}</p>`);
    const passwordInvalid =
      input.error && input.field === 'password' ? ' aria-describedby="guest-error" aria-invalid="true"' : '';
    parts.push(`<form method="post" action="${escapeHtml(path(link))}" class="sign-in">
<label for="guest-name">Your name</label>
<input id="guest-name" name="name" type="text" autocomplete="name" maxlength="64" value="${escapeHtml(
      input.name ?? '',
    )}" aria-describedby="guest-name-hint${input.error && input.field === 'name' ? ' guest-error" aria-invalid="true' : ''}"${
      input.field === 'password' ? '' : ' autofocus'
    }>
<p class="hint" id="guest-name-hint">Shown to others in the document. Leave it empty to join anonymously.</p>
${
  link.passwordHash
    ? `<label for="guest-password">Password</label>
<input id="guest-password" name="password" type="password" autocomplete="off" required${passwordInvalid}${
        input.field === 'password' ? ' autofocus' : ''
      }>`
    : ''
}
<button type="submit">Open document</button>
</form>`);
    return renderCardPage(`${file?.name ?? 'Shared document'} – Quire`, parts.join('\n'));
  };

  app.get<{ Params: { link: string } }>('/s/:link', async (request, reply) => {
    const link = await usableLink(reply, request.params.link);
    if (!link) return reply;
    if (await passOf(request, link))
      return reply.header('cache-control', 'no-store').redirect(at(reply, `${path(link)}/open`), 303);
    return sendPage(reply, { kind: 'plain' }, await page(link));
  });

  app.post<{ Params: { link: string } }>('/s/:link', async (request, reply) => {
    if (request.headers['sec-fetch-site'] === 'cross-site')
      return sendProblem(reply, 403, 'Refused', 'The form was sent from another site.');
    const link = await usableLink(reply, request.params.link);
    if (!link) return reply;
    const form = await readForm(request);
    let name: string;
    try {
      name = checkGuestName(form.get('name') ?? '');
    } catch (err) {
      return sendPage(
        reply,
        { kind: 'plain' },
        await page(link, { error: (err as Error).message, field: 'name' }),
        400,
      );
    }
    if (!(await sharing.linkPasswordMatches(link, form.get('password') ?? undefined))) {
      request.log.info('link password refused');
      return sendPage(
        reply,
        { kind: 'plain' },
        await page(link, { name, error: 'That password is not right.', field: 'password' }),
        401,
      );
    }
    const guest = await sharing.guest(link, name);
    const guestId = guest?.id ?? `anonymous-${randomBytes(12).toString('hex')}`;
    const now = host.clock.now();
    const pass = await mintGuestPass({ linkId: link.id, guestId, name: guest?.name ?? '' }, sessions.secret, now);
    const cookie = app.serializeCookie(PASS_COOKIE, pass, {
      httpOnly: true,
      sameSite: 'lax',
      path: at(reply, path(link)),
      maxAge: Math.floor(GUEST_PASS_TTL_MS / 1000),
      secure: sessions.secureCookies === true,
    });
    return reply
      .header('set-cookie', cookie)
      .header('cache-control', 'no-store')
      .redirect(at(reply, `${path(link)}/open`), 303);
  });

  app.get<{ Params: { link: string } }>('/s/:link/open', async (request, reply) => {
    const link = await usableLink(reply, request.params.link);
    if (!link) return reply;
    const pass = await passOf(request, link);
    if (!pass) return reply.header('cache-control', 'no-store').redirect(at(reply, path(link)), 303);
    const file = await host.storage.catalog.getFile(link.fileId);
    if (!file) return sendProblem(reply, 404, 'No such document', 'It may have been deleted.');
    const commentOnlyEditor = COMMENT_ONLY_FLAVOURS.includes(host.flavour());
    const mayEdit = atLeast(link.role, 'editor') || (link.role === 'commenter' && commentOnlyEditor);
    const userName = pass.name || 'Guest';
    return openInEditor(reply, request, {
      host,
      editor,
      file,
      wanted: mayEdit ? 'edit' : 'view',
      mayEdit,
      urls: { close: path(link), edit: `${path(link)}/open` },
      mint: (readOnly) => {
        const role = readOnly ? 'viewer' : link.role;
        // a guest creates nothing and deletes nothing, whatever the link gives
        const permissions = { ...permissionsOf(role, { commentOnlyEditor }), writeRelative: false, delete: false };
        return host.tokens.mint({
          fileId: file.id,
          userId: pass.guestId,
          userName,
          role,
          permissions,
          linkId: link.id,
          ...(pass.name === '' && { anonymous: true }),
          ...(link.secureView && {
            watermark: renderWatermark(
              link.secureView.watermark,
              { displayName: userName, name: userName },
              host.clock.now(),
            ),
          }),
        });
      },
      opened: { userId: pass.guestId, userName, details: { link: link.id, guest: true } },
    });
  });
}
