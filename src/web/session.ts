import { createHmac } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, jwtVerify, SignJWT } from 'jose';
import { checkUserName, type User, UserExistsError, type UserStore } from '../users/store.ts';
import { escapeHtml } from './html.ts';

export interface SessionOptions {
  users: UserStore;
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

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SESSION_AUDIENCE = 'quire-session';
// A sign-in form is small; anything larger is not one.
const MAX_FORM_BYTES = 16 * 1024;

const cookieName = (opts: SessionOptions) => (opts.secureCookies ? '__Host-quire_session' : 'quire_session');

/** A key of its own for sessions, so a session can never pass as an access token or the other way round. */
const sessionKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('quire session cookie v1').digest());

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

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

async function mintSession(user: User, opts: SessionOptions): Promise<{ token: string; maxAgeSeconds: number }> {
  const now = opts.now();
  const ttl = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  // Round the expiry down: a session may end up to a second early, never late.
  const exp = Math.floor((now + ttl) / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(exp)
    .sign(sessionKey(opts.secret));
  return { token, maxAgeSeconds: Math.max(0, exp - Math.floor(now / 1000)) };
}

/** The user id a session cookie stands for, or null when it is missing, forged, tampered with or expired. */
async function sessionUserId(token: string, opts: SessionOptions): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, sessionKey(opts.secret), {
      algorithms: ['HS256'],
      audience: SESSION_AUDIENCE,
      currentDate: new Date(opts.now()),
      requiredClaims: ['exp', 'sub'],
    });
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
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
  const token = request.server.parseCookie(header)[cookieName(opts)];
  if (!token) return null;
  const id = await sessionUserId(token, opts);
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
function prefersJson(accept: string | undefined): boolean {
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
 * A preHandler that lets signed-in requests through. Anyone else gets 401 JSON when they prefer JSON, or is sent
 * to the sign-in page (and back here afterwards, for GET requests).
 */
export function requireUser(opts: SessionOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    if (await currentUser(request, opts)) return;
    if (prefersJson(request.headers.accept)) {
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

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 24rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5 }
label { display: block; margin-top: 1rem; font-weight: 600 }
input { display: block; width: 100%; box-sizing: border-box; padding: .5rem; font: inherit }
button { margin-top: 1.25rem; padding: .5rem 1rem; font: inherit }
.error { border-left: .25rem solid #b00020; padding: .5rem .75rem; background: #fdecee }
</style></head>
<body><main>
${body}
</main></body></html>`;
}

function loginPage(input: { next: string; name?: string; error?: string; signedInAs?: User | null }): string {
  const parts = ['<h1>Sign in to Quire</h1>'];
  if (input.error) {
    parts.push(`<p class="error" id="login-error" role="alert">${escapeHtml(input.error)}</p>`);
  }
  if (input.signedInAs) {
    parts.push(
      `<p>You are signed in as <strong>${escapeHtml(input.signedInAs.displayName)}</strong>.
<a href="${escapeHtml(input.next)}">Continue</a></p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
    );
  }
  const described = input.error ? ' aria-describedby="login-error"' : '';
  parts.push(`<form method="post" action="/login">
<input type="hidden" name="next" value="${escapeHtml(input.next)}">
<label for="login-name">Name</label>
<input id="login-name" name="name" type="text" autocomplete="username" autocapitalize="none" spellcheck="false"
  required maxlength="64" value="${escapeHtml(input.name ?? '')}"${described}${input.name ? '' : ' autofocus'}>
<label for="login-password">Password</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required${described}${input.name ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`);
  return page('Sign in — Quire', parts.join('\n'));
}

function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .type('text/html; charset=utf-8')
    .send(html);
}

/** Reads an application/x-www-form-urlencoded body from the raw stream (the app parses no bodies itself). */
async function readForm(request: FastifyRequest): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw httpError(415, 'send the form as application/x-www-form-urlencoded');
  }
  const tooLarge = () => httpError(413, `a sign-in form is at most ${MAX_FORM_BYTES} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > MAX_FORM_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Refuses a form posted from another site (login CSRF: signing a victim in as the attacker). Browsers say where a
 * request comes from in Sec-Fetch-Site; clients that do not send it (scripts, old browsers) are let through.
 */
function isCrossSite(request: FastifyRequest): boolean {
  return request.headers['sec-fetch-site'] === 'cross-site';
}

// Registration is deferred until the app boots, so hasDecorator alone cannot see a registration made moments ago.
const cookiePluginAdded = new WeakSet<FastifyInstance>();

/**
 * GET /login, POST /login and POST /logout. Expects the app to leave bodies unparsed (as `buildHttpApp` does): the
 * form is read from the raw request stream.
 */
export function registerSessionRoutes(app: FastifyInstance, opts: SessionOptions): void {
  if (!app.hasDecorator('parseCookie') && !cookiePluginAdded.has(app)) {
    cookiePluginAdded.add(app);
    app.register(fastifyCookie);
  }
  const name = cookieName(opts);

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeNextPath(request.query.next);
    return sendPage(reply, 200, loginPage({ next, signedInAs: await currentUser(request, opts) }));
  });

  app.post('/login', async (request, reply) => {
    if (isCrossSite(request)) return sendPage(reply, 403, page('Refused — Quire', '<h1>Sign-in refused</h1>'));
    const form = await readForm(request);
    const next = safeNextPath(form.get('next'));
    const userName = (form.get('name') ?? '').trim();
    const password = form.get('password') ?? '';
    if (!userName || !password) {
      return sendPage(reply, 400, loginPage({ next, name: userName, error: 'Enter your name and your password.' }));
    }
    const user = await opts.users.verifyPassword(userName, password);
    if (!user) {
      request.log.info('sign-in refused');
      return sendPage(
        reply,
        401,
        loginPage({ next, name: userName, error: 'That name and password do not match an account. Try again.' }),
      );
    }
    const { token, maxAgeSeconds } = await mintSession(user, opts);
    const cookie = app.serializeCookie(name, token, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: maxAgeSeconds,
      secure: opts.secureCookies === true,
    });
    return reply.header('set-cookie', cookie).header('cache-control', 'no-store').redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    if (isCrossSite(request)) return sendPage(reply, 403, page('Refused — Quire', '<h1>Sign-out refused</h1>'));
    // Nothing in the body matters; drain it so the connection can be reused.
    request.raw.resume();
    const cookie = app.serializeCookie(name, '', {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: 0,
      expires: new Date(0),
      secure: opts.secureCookies === true,
    });
    return reply.header('set-cookie', cookie).header('cache-control', 'no-store').redirect('/login', 303);
  });
}
