import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifySessionToken } from '../auth/sessions.ts';
import { type Accounts, checkUserName, type User, UserExistsError } from '../users/accounts.ts';

/** Who is signed in: the session cookie, or the trusted proxy header where one is configured. */

export interface SessionOptions {
  users: Accounts;
  /** Quire's signing secret; sessions sign with a key derived from it, never with the secret itself. */
  secret: Uint8Array;
  now: () => number;
  /** How long a sign-in lasts; 12 hours unless given. */
  ttlMs?: number;
  /**
   * For deployments behind a single-sign-on proxy (e.g. `X-Remote-User`): a request carrying this header is signed
   * in as the user it names, created on first sight without a password. Only set this when every request reaches
   * Quire through that proxy and the proxy overwrites the header: anyone who can reach Quire directly can claim
   * any name with it.
   */
  trustedUserHeader?: string;
  /** Marks the cookie Secure (and names it with the `__Host-` prefix); for deployments served over HTTPS. */
  secureCookies?: boolean;
}

export const sessionCookieName = (opts: SessionOptions) =>
  opts.secureCookies ? '__Host-quire_session' : 'quire_session';

/**
 * Where to go after signing in: a path on this site, or "/". Refuses "//host" and "/\host" (which browsers read as
 * another site), absolute URLs and control characters, so the login form cannot be used as an open redirect.
 */
export function safeNextPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 2048) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return '/';
  const base = 'http://quire.invalid';
  try {
    const url = new URL(raw, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

/** Header values arrive as Latin-1; proxies that send non-ASCII names send UTF-8 bytes. */
function decodeHeaderValue(value: string): string {
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  return utf8.includes('\uFFFD') ? value : utf8;
}

async function userFromTrustedHeader(request: FastifyRequest, opts: SessionOptions): Promise<User | null | undefined> {
  if (!opts.trustedUserHeader) return undefined;
  const raw = request.headers[opts.trustedUserHeader.toLowerCase()];
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  let name: string;
  try {
    name = checkUserName(decodeHeaderValue(raw).trim());
  } catch {
    request.log.warn({ header: opts.trustedUserHeader }, 'trusted user header holds no valid user name');
    return null;
  }
  const known = await opts.users.findByName(name);
  if (known) return known;
  try {
    return await opts.users.create({ name });
  } catch (err) {
    // Two first requests from the same person raced; the other one created the account.
    if (err instanceof UserExistsError) return opts.users.findByName(name);
    throw err;
  }
}

async function resolveUser(request: FastifyRequest, opts: SessionOptions): Promise<User | null> {
  const proxied = await userFromTrustedHeader(request, opts);
  if (proxied !== undefined) return proxied;
  const header = request.headers.cookie;
  if (!header || !request.server.hasDecorator('parseCookie')) return null;
  const token = request.server.parseCookie(header)[sessionCookieName(opts)];
  if (!token) return null;
  const id = await verifySessionToken(token, { secret: opts.secret, now: opts.now() });
  // A deleted user's cookie opens nothing.
  return id === null ? null : opts.users.findById(id);
}

const resolved = new WeakMap<FastifyRequest, { opts: SessionOptions; user: Promise<User | null> }>();

/**
 * Who sent this request: the user named by the trusted proxy header when one is configured and present, else the
 * user of a valid session cookie, else null. Answered once per request, so a route guarded by `requireUser` can
 * ask again for free.
 */
export function currentUser(request: FastifyRequest, opts: SessionOptions): Promise<User | null> {
  const hit = resolved.get(request);
  if (hit && hit.opts === opts) return hit.user;
  const user = resolveUser(request, opts);
  resolved.set(request, { opts, user });
  return user;
}

/** True when the client ranks JSON above HTML in its Accept header (scripts, not browsers). */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(weight)) continue;
    if (type === 'application/json' || type.endsWith('+json')) json = Math.max(json, weight);
    else if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, weight);
  }
  return json > html;
}

/**
 * A preHandler that lets signed-in requests through. Anyone else gets 401 JSON when they prefer JSON (or always,
 * with `answer: 'json'`: the JSON API), or is sent to the sign-in page (and back here afterwards, for GET requests).
 */
export function requireUser(
  opts: SessionOptions,
  { answer = 'negotiate' }: { answer?: 'negotiate' | 'json' } = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    if (await currentUser(request, opts)) return;
    if (answer === 'json' || prefersJson(request.headers.accept)) {
      // Answered here rather than thrown: apps that embed these routes without Quire's error mapper get it too.
      await reply
        .code(401)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: 'sign in required', login: '/login' }));
      return;
    }
    const back = request.method === 'GET' || request.method === 'HEAD' ? safeNextPath(request.url) : '/';
    const target = back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
    await reply.header('cache-control', 'no-store').redirect(target, 303);
  };
}
