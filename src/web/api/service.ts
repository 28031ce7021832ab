import type { FastifyRequest } from 'fastify';
import { type ApiKeys, type ApiScope, ScopeMissing, serviceUser } from '../../access/api-keys.ts';
import { forbidden } from '../../core/errors.ts';
import type { ApiKey } from '../../storage/types.ts';
import { actAs, type SessionOptions } from '../session.ts';

/**
 * Requests another app sends with a service API key (`Authorization: Bearer quire_…`) instead of a sign-in. Such a
 * request acts as the key's service principal (web/api routes see an admin-like user, so every document is within
 * reach) and each route is open to a key only with the scope it needs, decided here for the whole API.
 */

const keyOfRequest = new WeakMap<FastifyRequest, ApiKey>();

/** The key this request was sent with, once the API's preHandler accepted it; undefined for signed-in people. */
export const apiKeyOf = (request: FastifyRequest): ApiKey | undefined => keyOfRequest.get(request);

/**
 * The scope a key needs for a route (its method and URL pattern): null when any valid key may use it, undefined when
 * keys may not use it at all (people, groups, API keys, the whole audit log, the lock console).
 */
export function scopeFor(method: string, route: string): ApiScope | null | undefined {
  if (route === '/api/me' || route === '/api/templates') return null;
  if (route === '/api/webhooks' || route.startsWith('/api/webhooks/')) return 'webhooks';
  if (route === '/api/files/:id/tokens') return 'tokens';
  if (route === '/api/files' || route.startsWith('/api/files/') || route === '/api/people') {
    return method === 'GET' || method === 'HEAD' ? 'files:read' : 'files:write';
  }
  return undefined;
}

/**
 * A preHandler for the JSON API: a request with `Authorization: Bearer …` must carry a key that works now (else 401
 * with the reason), and the key must have the route's scope (else 403 naming it). Requests without one are left to
 * the sign-in check.
 */
export function acceptApiKeys(
  keys: ApiKeys | undefined,
  sessions: SessionOptions,
): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const header = request.headers.authorization;
    // other schemes (a proxy's Basic sign-in, say) are not ours to judge: the browser sends them on every request
    if (header === undefined || !/^bearer\s/i.test(header.trimStart())) return;
    if (!keys) throw forbidden('this Quire keeps no API keys');
    const key = await keys.authenticate(header);
    // the route as registered, less the path Quire is served under ('/office/api/files' → '/api/files')
    const needed = scopeFor(request.method, (request.routeOptions.url ?? '').slice(request.server.prefix.length));
    if (needed === undefined) throw forbidden('API keys cannot use this part of the API; sign in as an admin');
    if (needed !== null && !key.scopes.includes(needed)) throw new ScopeMissing(needed);
    keyOfRequest.set(request, key);
    actAs(request, sessions, serviceUser(key));
  };
}
