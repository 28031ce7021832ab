import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_SCOPES, apiKeyProblem, SCOPE_NOTES } from '../../access/api-keys.ts';
import { API_KEY_PREFIX } from '../../auth/api-key.ts';
import type { Clock } from '../../core/clock.ts';
import { badRequest, forbidden, QuireError } from '../../core/errors.ts';
import type { ApiKey } from '../../storage/types.ts';
import { type ApiContext, actorOf, signedInUser } from './context.ts';
import { readJsonObject } from './json-body.ts';
import { API_KEYS } from './schemas.ts';
import { type NameOf, userNames } from './views.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A key as the API shows it: never its secret (only its recognisable start), with whether it works now and why not. */
export async function apiKeyView(key: ApiKey, nameOf: NameOf, clock: Clock) {
  const problem = apiKeyProblem(key, clock.now());
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    prefix: `${API_KEY_PREFIX}${key.id}_`,
    status: key.revokedAt !== null ? 'revoked' : problem ? 'expired' : 'active',
    createdAt: iso(key.createdAt),
    createdBy: { id: key.createdBy, name: await nameOf(key.createdBy) },
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    lastUsedAt: iso(key.lastUsedAt),
  };
}

/** `expiresAt` as sent: absent or null (never), or a date and time (ISO 8601) in the future. */
function expiryOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at))
    throw badRequest('"expiresAt" must be a date and time such as 2026-12-31T00:00:00Z, or null');
  return at;
}

/**
 * Service API keys, for admins signed in to Quire's pages (never for keys themselves): list, create (the key is in
 * the answer, once), revoke. GET /api/admin/api-keys/scopes says what each scope allows.
 */
export function registerApiKeys(api: FastifyInstance, ctx: ApiContext): void {
  const { host } = ctx;
  const admin = async (request: FastifyRequest) => {
    const user = await signedInUser(ctx, request);
    if (!user.isAdmin) throw forbidden('only admins manage API keys');
    if (!ctx.apiKeys) throw new QuireError(501, 'this storage keeps no API keys');
    return { user, keys: ctx.apiKeys };
  };

  api.get('/api/admin/api-keys', { schema: API_KEYS.list }, async (request) => {
    const { keys } = await admin(request);
    const nameOf = userNames(host.storage);
    return Promise.all((await keys.list()).map((k) => apiKeyView(k, nameOf, host.clock)));
  });

  api.get('/api/admin/api-keys/scopes', { schema: API_KEYS.scopes }, async (request) => {
    await admin(request);
    return API_SCOPES.map((scope) => ({ scope, note: SCOPE_NOTES[scope] }));
  });

  api.post('/api/admin/api-keys', { schema: API_KEYS.create }, async (request, reply) => {
    const { user, keys } = await admin(request);
    const body = await readJsonObject(request);
    const actor = await actorOf(ctx, request);
    const created = await keys.create(
      { name: body.name, scopes: body.scopes, expiresAt: expiryOf(body.expiresAt) },
      { ...actor, userId: user.id },
    );
    const view = await apiKeyView(created.apiKey, userNames(host.storage), host.clock);
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ ...view, key: created.key });
  });

  api.post<{ Params: { id: string } }>(
    '/api/admin/api-keys/:id/revoke',
    { schema: API_KEYS.revoke },
    async (request) => {
      const { keys } = await admin(request);
      const revoked = await keys.revoke(request.params.id, await actorOf(ctx, request));
      return apiKeyView(revoked, userNames(host.storage), host.clock);
    },
  );
}
