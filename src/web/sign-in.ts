import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuireError } from '../core/errors.ts';
import { readCapped } from '../core/streams.ts';
import { type User, userNameKey } from '../users/accounts.ts';
import { oidcStartUrl } from './oidc.ts';
import { SignInLimiter, tooManyAttemptsMessage } from './rate-limit.ts';
import { currentUser, endSession, type SessionOptions, safeNextPath, startSession } from './session.ts';
import type { FirstRunSetup } from './setup.ts';
import { at, escapeHtml, renderCardPage, sendPage, sendProblem } from './shell.ts';

/** Signing in and out: the sign-in page, its form, and the session cookie it sets or clears. */

// A sign-in form is small; anything larger is not one.
const MAX_FORM_BYTES = 16 * 1024;

/** What the sign-in page says while nobody has an account yet (see setup.ts). */
const FIRST_RUN_NOTICE = `<div class="notice">
<p><strong>Quire has no accounts yet.</strong> To create the first admin, open the setup link that
<code>quire serve</code> printed when it started.</p>
<p>Or, in a terminal: <code>npx quire user add NAME --admin</code></p>
</div>`;

/** Single sign-on (oidc.ts): what the sign-in button calls the provider ("Sign in with …"). */
export interface SingleSignOn {
  label: string;
}

function loginPage(input: {
  next: string;
  name?: string;
  error?: string;
  signedInAs?: User | null;
  firstRun?: boolean;
  /** Single sign-on, when configured: the button above the password form. */
  sso?: SingleSignOn | undefined;
}): string {
  const parts = ['<h1>Sign in</h1>'];
  if (input.firstRun) parts.push(FIRST_RUN_NOTICE);
  if (input.error) {
    parts.push(`<p class="notice error" id="login-error" role="alert">${escapeHtml(input.error)}</p>`);
  }
  if (input.signedInAs) {
    parts.push(`<div class="notice">
<p>You are signed in as <strong>${escapeHtml(input.signedInAs.displayName)}</strong>.</p>
<div class="card-actions"><a class="button" href="${escapeHtml(input.next)}">Continue</a>
<form method="post" action="/logout"><button type="submit" class="secondary">Sign out</button></form></div>
</div>`);
  }
  const described = input.error ? ' aria-describedby="login-error"' : '';
  if (input.sso) {
    parts.push(`<p class="sso"><a class="button sso" id="sso" href="${escapeHtml(oidcStartUrl(input.next))}">Sign in with ${escapeHtml(input.sso.label)}</a></p>
<p class="divider" role="separator"><span>or with your Quire password</span></p>`);
  }
  parts.push(`<form method="post" action="/login" class="sign-in">
<input type="hidden" name="next" value="${escapeHtml(input.next)}">
<label for="login-name">Name</label>
<input id="login-name" name="name" type="text" autocomplete="username" autocapitalize="none" spellcheck="false"
  required maxlength="64" value="${escapeHtml(input.name ?? '')}"${described}${input.name || input.sso ? '' : ' autofocus'}>
<label for="login-password">Password</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required${described}${input.name ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`);
  return renderCardPage('Sign in — Quire', parts.join('\n'));
}

const sendLoginPage = (reply: FastifyReply, status: number, input: Parameters<typeof loginPage>[0]) =>
  sendPage(reply, { kind: 'plain' }, loginPage(input), status);

/** Reads an application/x-www-form-urlencoded body from the raw stream (the app parses no bodies itself). */
export async function readForm(request: FastifyRequest): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new QuireError(415, 'send the form as application/x-www-form-urlencoded');
  }
  const body = await readCapped(request.raw, {
    max: MAX_FORM_BYTES,
    declared: Number(request.headers['content-length'] ?? 0),
    tooLarge: () => new QuireError(413, `a sign-in form is at most ${MAX_FORM_BYTES} bytes`),
  });
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * Refuses a form posted from another site (login CSRF: signing a victim in as the attacker). Browsers say where a
 * request comes from in Sec-Fetch-Site; clients that do not send it (scripts, old browsers) are let through.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  return request.headers['sec-fetch-site'] === 'cross-site';
}

const refusedCrossSite = (reply: FastifyReply, what: 'Sign-in' | 'Sign-out') =>
  sendProblem(
    reply,
    403,
    `${what} refused`,
    `The form was sent from another site. ${what === 'Sign-in' ? 'Sign in' : 'Sign out'} from Quire's own page.`,
  );

/**
 * GET /login, POST /login and POST /logout. Expects the app to leave bodies unparsed (as `buildHttpApp` does): the
 * form is read from the raw request stream, and a body left unread is the app's to drain. Expects @fastify/cookie
 * (`registerWeb` registers it for the web routes only).
 */
export function registerSessionRoutes(
  app: FastifyInstance,
  opts: SessionOptions,
  {
    limiter = new SignInLimiter(opts.now),
    setup,
    sso,
  }: {
    /** Failed sign-ins per name and per address (rate-limit.ts); its defaults unless given. */
    limiter?: SignInLimiter;
    /** While it is open (no users yet), the page points to the setup link. */
    setup?: FirstRunSetup | undefined;
    /** When single sign-on is configured, the page offers it above the password form. */
    sso?: SingleSignOn | undefined;
  } = {},
): void {
  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeNextPath(request.query.next);
    const firstRun = setup !== undefined && (await setup.isOpen());
    return sendLoginPage(reply, 200, { next, signedInAs: await currentUser(request, opts), firstRun, sso });
  });

  app.post('/login', async (request, reply) => {
    if (isCrossSite(request)) return refusedCrossSite(reply, 'Sign-in');
    const form = await readForm(request);
    const next = safeNextPath(form.get('next'));
    const userName = (form.get('name') ?? '').trim();
    const password = form.get('password') ?? '';
    if (!userName || !password) {
      return sendLoginPage(reply, 400, { next, name: userName, error: 'Enter your name and your password.', sso });
    }
    // Checked before the password, so a name or address past its limit costs no hashing and learns nothing.
    const nameKey = userNameKey(userName);
    const waitMs = limiter.retryAfterMs(nameKey, request.ip);
    if (waitMs > 0) {
      request.log.info('sign-in refused: too many attempts');
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return sendLoginPage(reply, 429, { next, name: userName, error: tooManyAttemptsMessage(waitMs), sso });
    }
    const user = await opts.users.verifyPassword(userName, password);
    if (!user) {
      limiter.failed(nameKey, request.ip);
      request.log.info('sign-in refused');
      return sendLoginPage(reply, 401, {
        next,
        name: userName,
        error: 'That name and password do not match an account. Try again.',
        sso,
      });
    }
    limiter.succeeded(nameKey);
    await startSession(app, reply, opts, user);
    return reply.header('cache-control', 'no-store').redirect(at(reply, next), 303);
  });

  app.post('/logout', async (request, reply) => {
    if (isCrossSite(request)) return refusedCrossSite(reply, 'Sign-out');
    await endSession(app, request, reply, opts);
    return reply.header('cache-control', 'no-store').redirect(at(reply, '/login'), 303);
  });
}
