import type { FastifyInstance, FastifyRequest } from 'fastify';
import { linkProblem } from '../../access/policy.ts';
import { checkRole, checkSecureView, groupNameKey, type Sharing } from '../../access/sharing.ts';
import { badRequest, forbidden, notFound } from '../../core/errors.ts';
import type { FileRecord, Principal, Share, ShareLink } from '../../storage/types.ts';
import { basePath } from '../shell.ts';
import { type ApiContext, actorOf, documentFor, signedInUser } from './context.ts';
import { readJsonObject } from './json-body.ts';
import { SHARING } from './schemas.ts';
import { userNames } from './views.ts';

type IdParams = { Params: { id: string } };

/** What a link's PATCH may change. */
const LINK_FIELDS = ['role', 'expiresAt', 'password', 'secureView', 'disabled'] as const;

/** A time given as an ISO string or ms since epoch; null clears it. */
function timeField(value: unknown, key: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw badRequest(`"${key}" must be a time (ISO 8601) or null`);
  return ms;
}

function passwordField(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  if (typeof value !== 'string') throw badRequest('"password" must be text or null');
  return value;
}

/** A link as the API shows it; `base` is the path Quire is served under (its URL carries it). */
export function linkView(link: ShareLink, now: number, base = '') {
  const problem = linkProblem(link, now);
  return {
    id: link.id,
    url: `${base}/s/${encodeURIComponent(link.id)}`,
    role: link.role,
    secureView: link.secureView,
    hasPassword: link.passwordHash !== null,
    expiresAt: link.expiresAt === null ? null : new Date(link.expiresAt).toISOString(),
    disabled: link.disabledAt !== null,
    // past its expiry (and not disabled): shown as expired, not as active
    expired: link.disabledAt === null && problem !== null,
    createdAt: new Date(link.createdAt).toISOString(),
  };
}

/**
 * Sharing a document: who has access (everyone who can see it may look), sharing with people and groups, and links
 * (the owner and admins only).
 */
export function registerSharing(api: FastifyInstance, ctx: ApiContext, sharing: Sharing): void {
  const { storage } = ctx.host;

  /** The document, if the caller may manage who has it: its owner or an admin. */
  const managed = async (request: FastifyRequest, id: string): Promise<FileRecord> => {
    const { file, access } = await documentFor(ctx, request, id, 'viewer');
    if (access.role !== 'owner') throw forbidden("only the document's owner or an admin may change who has access");
    return file;
  };

  /** `{"user": name or id}` or `{"group": name or id}`: who a share is for. */
  const principalOf = async (body: Record<string, unknown>): Promise<Principal> => {
    if (typeof body.user === 'string' && body.user.trim()) {
      const key = body.user.trim();
      const user = (await storage.users?.findById(key)) ?? (await storage.users?.findByKey(key.toLowerCase()));
      if (!user || user.disabledAt) throw notFound(`no user named ${JSON.stringify(key)}`);
      return { kind: 'user', id: user.id };
    }
    if (typeof body.group === 'string' && body.group.trim()) {
      const key = body.group.trim();
      const group = (await storage.access?.getGroup(key)) ?? (await storage.access?.findGroup(groupNameKey(key)));
      if (!group) throw notFound(`no group named ${JSON.stringify(key)}`);
      return { kind: 'group', id: group.id };
    }
    throw badRequest('say who: {"user": "name"} or {"group": "name"}');
  };

  const shareView = async (share: Share, nameOf: (id: string) => Promise<string>) => ({
    principal: {
      kind: share.principal.kind,
      id: share.principal.id,
      name:
        share.principal.kind === 'user'
          ? await nameOf(share.principal.id)
          : ((await storage.access?.getGroup(share.principal.id))?.name ?? share.principal.id),
    },
    role: share.role,
    secureView: share.secureView,
    createdAt: new Date(share.createdAt).toISOString(),
  });

  api.get<IdParams>('/api/files/:id/access', { schema: SHARING.access }, async (request) => {
    const { file, access } = await documentFor(ctx, request, request.params.id, 'viewer');
    const nameOf = userNames(storage);
    const shares = (await storage.access?.sharesOf(file.id)) ?? [];
    const manages = access.role === 'owner';
    return {
      you: { role: access.role, via: access.via, secureView: access.secureView !== null, manages },
      owner: { id: file.ownerId, name: await nameOf(file.ownerId) },
      shares: await Promise.all(shares.map((s) => shareView(s, nameOf))),
      // a link is a secret: only those who manage the document see them
      ...(manages && {
        links: ((await storage.access?.linksOf(file.id)) ?? []).map((l) =>
          linkView(l, ctx.host.clock.now(), basePath(request)),
        ),
      }),
    };
  });

  api.put<IdParams>('/api/files/:id/shares', { schema: SHARING.share }, async (request) => {
    const body = await readJsonObject(request);
    const file = await managed(request, request.params.id);
    const share = await sharing.share(
      file,
      { principal: await principalOf(body), role: checkRole(body.role), secureView: checkSecureView(body.secureView) },
      await actorOf(ctx, request),
    );
    return shareView(share, userNames(storage));
  });

  api.delete<{ Params: { id: string; kind: string; principal: string } }>(
    '/api/files/:id/shares/:kind/:principal',
    { schema: SHARING.unshare },
    async (request, reply) => {
      const { kind, principal } = request.params;
      if (kind !== 'user' && kind !== 'group') throw badRequest('shares are to a user or a group');
      const file = await managed(request, request.params.id);
      await sharing.unshare(file, { kind, id: principal }, await actorOf(ctx, request));
      return reply.code(204).send();
    },
  );

  api.post<IdParams>('/api/files/:id/links', { schema: SHARING.createLink }, async (request, reply) => {
    const body = await readJsonObject(request);
    const file = await managed(request, request.params.id);
    const link = await sharing.createLink(
      file,
      {
        role: checkRole(body.role ?? 'viewer'),
        secureView: checkSecureView(body.secureView),
        expiresAt: timeField(body.expiresAt, 'expiresAt') ?? null,
        password: passwordField(body.password) ?? null,
      },
      await actorOf(ctx, request),
    );
    return reply.code(201).send(linkView(link, ctx.host.clock.now(), basePath(request)));
  });

  api.patch<{ Params: { id: string; link: string } }>(
    '/api/files/:id/links/:link',
    { schema: SHARING.updateLink },
    async (request) => {
      const body = await readJsonObject(request);
      const file = await managed(request, request.params.id);
      if (body.disabled !== undefined && typeof body.disabled !== 'boolean')
        throw badRequest('"disabled" must be true or false');
      const password = passwordField(body.password);
      const expiresAt = timeField(body.expiresAt, 'expiresAt');
      if (!LINK_FIELDS.some((key) => body[key] !== undefined))
        throw badRequest(`say what to change: ${LINK_FIELDS.map((k) => `"${k}"`).join(', ')}`);
      const link = await sharing.updateLink(
        file,
        request.params.link,
        {
          ...(body.role !== undefined && { role: checkRole(body.role) }),
          ...(body.secureView !== undefined && { secureView: checkSecureView(body.secureView) }),
          ...(expiresAt !== undefined && { expiresAt }),
          ...(password !== undefined && { password }),
          ...(typeof body.disabled === 'boolean' && { disabled: body.disabled }),
        },
        await actorOf(ctx, request),
      );
      return linkView(link, ctx.host.clock.now(), basePath(request));
    },
  );

  /** Who one can share with: active people and the groups. */
  api.get('/api/people', { schema: SHARING.people }, async (request) => {
    await signedInUser(ctx, request);
    const users = ((await storage.users?.list()) ?? []).filter((u) => !u.disabledAt);
    const groups = (await storage.access?.listGroups()) ?? [];
    return {
      users: users.map((u) => ({ id: u.id, name: u.name, displayName: u.displayName })),
      groups: groups.map((g) => ({ id: g.id, name: g.name, source: g.source })),
    };
  });
}
