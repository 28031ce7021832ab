import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_CHALLENGE } from '../access/api-keys.ts';
import { DEFAULT_SESSION_TTL_MS, mintSessionToken, verifySessionToken } from '../auth/sessions.ts';
import type { AccessStore } from '../storage/types.ts';
import { type Accounts, checkUserName, type User, UserExistsError } from '../users/accounts.ts';
import { at, basePath } from './shell.ts';

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
  /**
   * For an app that embeds Quire and signs its people in itself: answers who sent the request (see `Identify`).
   * Asked before Quire's own sign-in; people it names get a Quire account on first sight, without a password.
   */
  identify?: Identify | undefined;
  /**
   * Where people sign in when `identify` does not know them: the embedding app's own sign-in page. Quire sends them
   * there with `next` set to the full path (base path included) to come back to. Default: Quire's own /login.
   */
  signInUrl?: string | undefined;
  /** Marks the cookie Secure (and names it with the `__Host-` prefix); for deployments served over HTTPS. */
  secureCookies?: boolean;
  /**
   * Where sign-ins are kept on the server, so signing out ends one at once (a copied cookie stops working) and the
   * access tokens minted in it end with it. Without it a session lasts until its cookie expires.
   */
  signIns?: Pick<AccessStore, 'startSignIn' | 'getSignIn' | 'endSignIn'> | undefined;
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

/**
 * Who the embedding app says sent a request, from the raw Node request (its cookies, its headers: whatever the app
 * signs people in with). `name` is the person's stable user name in the app (Quire's user name rules apply: see
 * `checkUserName`); `displayName` names a new account; `isAdmin` is kept in step with what the app says each time. Answer `null` to
 * refuse the request (someone the app knows but who may not use Quire), `undefined` to let Quire's own sign-in decide.
 */
export type Identify = (
  request: IncomingMessage,
) => Promise<{ name: string; displayName?: string; isAdmin?: boolean } | null | undefined>;

/** The account of the person named `name` by a trusted source, created on first sight (without a password). */
async function accountNamed(
  opts: SessionOptions,
  name: string,
  details: { displayName?: string | undefined; isAdmin?: boolean | undefined } = {},
): Promise<User | null> {
  const known = await opts.users.findByName(name);
  if (known) {
    if (known.disabledAt) return null;
    if (details.isAdmin !== undefined && details.isAdmin !== known.isAdmin) {
      await opts.users.setAdmin(known.id, details.isAdmin);
      return { ...known, isAdmin: details.isAdmin };
    }
    return known;
  }
  try {
    return await opts.users.create({
      name,
      ...(details.displayName && { displayName: details.displayName }),
      ...(details.isAdmin && { isAdmin: true }),
    });
  } catch (err) {
    // Two first requests from the same person raced; the other one created the account.
    if (err instanceof UserExistsError) return opts.users.findByName(name);
    throw err;
  }
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
  return accountNamed(opts, name);
}

async function userFromApp(request: FastifyRequest, opts: SessionOptions): Promise<User | null | undefined> {
  if (!opts.identify) return undefined;
  const who = await opts.identify(request.raw);
  if (who === undefined || who === null) return who;
  let name: string;
  try {
    name = checkUserName(who.name);
  } catch (err) {
    request.log.warn({ err }, 'the embedding app named a user Quire cannot take');
    return null;
  }
  return accountNamed(opts, name, who);
}

async function resolveUser(request: FastifyRequest, opts: SessionOptions): Promise<User | null> {
  const fromApp = await userFromApp(request, opts);
  if (fromApp !== undefined) return fromApp;
  const proxied = await userFromTrustedHeader(request, opts);
  if (proxied !== undefined) return proxied;
  const header = request.headers.cookie;
  if (!header || !request.server.hasDecorator('parseCookie')) return null;
  const token = request.server.parseCookie(header)[sessionCookieName(opts)];
  if (!token) return null;
  const session = await verifySessionToken(token, { secret: opts.secret, now: opts.now() });
  if (session === null) return null;
  if (session.signInId !== undefined && opts.signIns) {
    const signIn = await opts.signIns.getSignIn(session.signInId);
    // signed out (here or on another instance), or not ours
    if (!signIn || signIn.endedAt !== null || signIn.userId !== session.userId) return null;
    signInIds.set(request, session.signInId);
  }
  const user = await opts.users.findById(session.userId);
  // A deleted or disabled user's cookie opens nothing.
  return user && !user.disabledAt ? user : null;
}

const resolved = new WeakMap<FastifyRequest, { opts: SessionOptions; user: Promise<User | null> }>();
const signInIds = new WeakMap<FastifyRequest, string>();

/** The server-side sign-in this request's cookie belongs to, once `currentUser` has found the user. */
export async function currentSignIn(request: FastifyRequest, opts: SessionOptions): Promise<string | undefined> {
  await currentUser(request, opts);
  return signInIds.get(request);
}

/**
 * Signs `user` in: records the sign-in on the server (when a store is given) and sets the session cookie. Every way
 * of signing in (password, single sign-on, first-run setup) ends here.
 */
export async function startSession(
  app: FastifyInstance,
  reply: FastifyReply,
  opts: SessionOptions,
  user: User,
): Promise<void> {
  const now = opts.now();
  const ttlMs = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  let signInId: string | undefined;
  if (opts.signIns) {
    signInId = randomBytes(16).toString('hex');
    await opts.signIns.startSignIn({ id: signInId, userId: user.id, createdAt: now, expiresAt: now + ttlMs });
  }
  const { token, maxAgeSeconds } = await mintSessionToken({
    userId: user.id,
    secret: opts.secret,
    now,
    ttlMs,
    signInId,
  });
  const cookie = app.serializeCookie(sessionCookieName(opts), token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: maxAgeSeconds,
    secure: opts.secureCookies === true,
  });
  reply.header('set-cookie', cookie);
}

/** Ends the sign-in the request's cookie belongs to, on the server (every instance) and in the browser. */
export async function endSession(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  opts: SessionOptions,
): Promise<void> {
  const header = request.headers.cookie;
  const token =
    header && app.hasDecorator('parseCookie') ? app.parseCookie(header)[sessionCookieName(opts)] : undefined;
  if (token && opts.signIns) {
    const session = await verifySessionToken(token, { secret: opts.secret, now: opts.now() });
    if (session?.signInId !== undefined) await opts.signIns.endSignIn(session.signInId, opts.now());
  }
  const cookie = app.serializeCookie(sessionCookieName(opts), '', {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: 0,
    expires: new Date(0),
    secure: opts.secureCookies === true,
  });
  reply.header('set-cookie', cookie);
}

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

/**
 * Answers `currentUser` for this request with `user`, whoever the cookie names: for a request that proved who it is
 * another way (a service API key, web/api/service.ts). Must run before anything asks `currentUser`.
 */
export function actAs(request: FastifyRequest, opts: SessionOptions, user: User): void {
  resolved.set(request, { opts, user: Promise.resolve(user) });
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
      // scripts and other apps learn they may send a service API key instead (RFC 6750)
      await reply
        .code(401)
        .header('cache-control', 'no-store')
        .headers(BEARER_CHALLENGE)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: 'sign in required', login: opts.signInUrl ?? at(request, '/login') }));
      return;
    }
    // `next` is a path of Quire's, without the base path it is served under (see web/shell.ts)
    const base = basePath(request);
    const path = request.url.startsWith(`${base}/`) ? request.url.slice(base.length) : '/';
    const back = request.method === 'GET' || request.method === 'HEAD' ? safeNextPath(path) : '/';
    if (opts.signInUrl) {
      // the embedding app's sign-in: it gets the browser's full path back, base path included
      const url = new URL(opts.signInUrl, 'http://quire.invalid');
      url.searchParams.set('next', at(request, back));
      const target = opts.signInUrl.startsWith('/') ? `${url.pathname}${url.search}` : url.href;
      await reply.header('cache-control', 'no-store').redirect(target, 303);
      return;
    }
    const target = back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`;
    await reply.header('cache-control', 'no-store').redirect(at(request, target), 303);
  };
}
