import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type * as OidcLib from 'openid-client';
import { groupNamesFromClaim, syncProviderGroups } from '../access/provider-groups.ts';
import type { AccessStore } from '../storage/types.ts';
import { type Accounts, checkDisplayName, checkUserName, type User, UserExistsError } from '../users/accounts.ts';
import { type SessionOptions, safeNextPath, startSession } from './session.ts';
import { at, escapeHtml, renderCardPage, sendPage } from './shell.ts';

/**
 * openid-client (with jose and oauth4webapi, about 9 MB of memory) is loaded on the first sign-in through a provider,
 * not at start: a Quire without single sign-on never loads it.
 */
let loaded: typeof OidcLib | undefined;
const openidClient = async (): Promise<typeof OidcLib> => {
  loaded ??= await import('openid-client');
  return loaded;
};

/**
 * Single sign-on through an OpenID Connect provider: the authorization code flow with PKCE, state and nonce, done by
 * openid-client. GET /login/oidc sends the browser to the provider; GET /login/oidc/callback takes its answer,
 * finds or creates the Quire user the provider names, brings their provider groups in step, and signs them in.
 *
 * What the callback must check (the PKCE verifier, the state, the nonce, where to go next) travels in a short-lived
 * cookie signed with a key derived from Quire's secret, not in this process's memory: the callback may reach
 * another instance than the one the sign-in started on.
 */

export interface OidcOptions {
  /** The provider's issuer URL (its discovery document is at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string;
  /** Space-separated; default "openid profile email". "openid" is added when missing. */
  scopes?: string;
  /** The claim whose value is the Quire user name; default "preferred_username". */
  userClaim?: string;
  /** The claim listing the user's groups; default "groups"; "" turns group sync off. */
  groupsClaim?: string;
  /** What the sign-in button calls the provider ("Sign in with …"); default "single sign-on". */
  displayName?: string;
}

export const DEFAULT_OIDC_SCOPES = 'openid profile email';
export const DEFAULT_OIDC_USER_CLAIM = 'preferred_username';
export const DEFAULT_OIDC_GROUPS_CLAIM = 'groups';
export const DEFAULT_OIDC_DISPLAY_NAME = 'single sign-on';

export const OIDC_START_PATH = '/login/oidc';
export const OIDC_CALLBACK_PATH = '/login/oidc/callback';

/** How long a sign-in may take at the provider before its callback is refused. */
const FLOW_TTL_SECONDS = 10 * 60;
/** After failing to reach the provider, ask it again no sooner than this (each click does not knock again). */
const DISCOVERY_RETRY_MS = 5_000;
/** Seconds any request to the provider may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** The settings as used: defaults filled in, checked. Throws an Error saying what is wrong. */
export function resolveOidcOptions(options: OidcOptions): Required<OidcOptions> & { clientSecret: string } {
  let issuer: URL;
  try {
    issuer = new URL(options.issuer);
  } catch {
    throw new Error(`the OpenID Connect issuer must be a URL, not ${JSON.stringify(options.issuer)}`);
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') {
    throw new Error(`the OpenID Connect issuer must be an https:// URL, not ${JSON.stringify(options.issuer)}`);
  }
  if (!options.clientId) throw new Error('single sign-on needs the client id Quire is registered under');
  const scopes = (options.scopes ?? DEFAULT_OIDC_SCOPES).split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) scopes.unshift('openid');
  const userClaim = (options.userClaim ?? '').trim() || DEFAULT_OIDC_USER_CLAIM;
  return {
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret ?? '',
    scopes: scopes.join(' '),
    userClaim,
    groupsClaim: (options.groupsClaim ?? DEFAULT_OIDC_GROUPS_CLAIM).trim(),
    displayName: (options.displayName ?? '').trim() || DEFAULT_OIDC_DISPLAY_NAME,
  };
}

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

// ---- the provider's configuration, discovered on first use -------------------------------------------------------

/** The provider's metadata and Quire's client there: discovered on first need, and again after a failure. */
class ProviderConfiguration {
  private config: OidcLib.Configuration | undefined;
  private pending: Promise<OidcLib.Configuration> | undefined;
  private failed: { at: number; error: unknown } | undefined;

  constructor(private readonly settings: ReturnType<typeof resolveOidcOptions>) {}

  get(): Promise<OidcLib.Configuration> {
    if (this.config) return Promise.resolve(this.config);
    if (this.failed && Date.now() - this.failed.at < DISCOVERY_RETRY_MS) return Promise.reject(this.failed.error);
    this.pending ??= this.discover().then(
      (config) => {
        this.config = config;
        this.failed = undefined;
        this.pending = undefined;
        return config;
      },
      (error: unknown) => {
        this.failed = { at: Date.now(), error };
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  private async discover(): Promise<OidcLib.Configuration> {
    const oidc = await openidClient();
    const { issuer, clientId, clientSecret } = this.settings;
    const insecure = new URL(issuer).protocol === 'http:';
    return oidc.discovery(new URL(issuer), clientId, undefined, clientAuth(oidc, clientSecret), {
      timeout: PROVIDER_TIMEOUT_SECONDS,
      ...(insecure && { execute: [oidc.allowInsecureRequests] }),
    });
  }
}

/**
 * How Quire proves itself at the token endpoint: with a secret, HTTP Basic unless the provider says it takes only
 * the secret in the form (Basic is what providers assume when they say nothing); without one, as a public client.
 */
function clientAuth(oidc: typeof OidcLib, secret: string): OidcLib.ClientAuth {
  if (!secret) return oidc.None();
  const basic = oidc.ClientSecretBasic(secret);
  const post = oidc.ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const use = !methods || methods.includes('client_secret_basic') || !methods.includes('client_secret_post');
    (use ? basic : post)(as, client, body, headers);
  };
}

// ---- the flow cookie ---------------------------------------------------------------------------------------------

/** What the callback checks the provider's answer against, and where the person goes afterwards. */
interface Flow {
  codeVerifier: string;
  state: string;
  nonce: string;
  next: string;
}

const FLOW_AUDIENCE = 'quire-oidc-flow';

/** A key of its own for the flow cookie, so it can never pass as a session or an access token, nor they as it. */
const flowKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('quire oidc flow cookie v1').digest());

async function sealFlow(flow: Flow, secret: Uint8Array, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ v: flow.codeVerifier, s: flow.state, n: flow.nonce, next: flow.next })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(FLOW_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + FLOW_TTL_SECONDS)
    .sign(flowKey(secret));
}

/** The flow a cookie holds, or null when it is forged, tampered with or expired. */
async function openFlow(token: string, secret: Uint8Array, now: number): Promise<Flow | null> {
  try {
    const { payload } = await jwtVerify(token, flowKey(secret), {
      algorithms: ['HS256'],
      audience: FLOW_AUDIENCE,
      currentDate: new Date(now),
      requiredClaims: ['exp'],
    });
    const { v, s, n, next } = payload;
    if (typeof v !== 'string' || typeof s !== 'string' || typeof n !== 'string' || typeof next !== 'string') {
      return null;
    }
    return { codeVerifier: v, state: s, nonce: n, next: safeNextPath(next) };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
}

// The __Secure- prefix (not __Host-) lets the cookie keep to the sign-in paths.
const flowCookieName = (sessions: SessionOptions) => (sessions.secureCookies ? '__Secure-quire_oidc' : 'quire_oidc');

function flowCookie(app: FastifyInstance, sessions: SessionOptions, value: string, maxAge: number): string {
  return app.serializeCookie(flowCookieName(sessions), value, {
    httpOnly: true,
    // sent along when the provider sends the browser back (a top-level GET), not on requests other sites make
    sameSite: 'lax',
    path: `${app.prefix}${OIDC_START_PATH}`,
    maxAge,
    ...(maxAge === 0 && { expires: new Date(0) }),
    secure: sessions.secureCookies === true,
  });
}

// ---- pages -------------------------------------------------------------------------------------------------------

/** The sign-in button's target: start single sign-on, coming back to `next`. */
export const oidcStartUrl = (next: string) =>
  next === '/' ? OIDC_START_PATH : `${OIDC_START_PATH}?next=${encodeURIComponent(next)}`;

/** A page saying why single sign-on did not sign the person in, with the ways to try again. `message` is HTML. */
function sendSignInProblem(
  reply: FastifyReply,
  status: number,
  input: { title: string; message: string; next: string; label: string; retry?: boolean },
): FastifyReply {
  const login = input.next === '/' ? '/login' : `/login?next=${encodeURIComponent(input.next)}`;
  const actions = [
    input.retry === false ? '' : `<a class="button" href="${escapeHtml(oidcStartUrl(input.next))}">Try again</a>`,
    `<a class="button secondary" href="${escapeHtml(login)}">Back to sign-in</a>`,
  ].filter(Boolean);
  const html = renderCardPage(
    `${input.title} – Quire`,
    `<h1>${escapeHtml(input.title)}</h1>
<p id="problem">${input.message}</p>
<p class="card-actions">${actions.join('\n')}</p>`,
  );
  return sendPage(reply, { kind: 'plain' }, html, status);
}

// ---- the routes --------------------------------------------------------------------------------------------------

export interface OidcRouteOptions {
  sessions: SessionOptions;
  oidc: OidcOptions;
  /** Where the provider sends the browser back: `${publicUrl}/login/oidc/callback` (settled once Quire listens). */
  redirectUri: () => string;
  /** Where groups are kept; without it the groups claim is not read. */
  groups?: Pick<AccessStore, 'createGroup' | 'findGroup' | 'addMember' | 'removeMember' | 'groupsOf'> | undefined;
}

/** Why reaching or using the provider failed in a way a person cannot fix by trying again differently. */
function isProviderFault(err: unknown): boolean {
  // the library's errors exist only once it is loaded (it is, before any of its calls could fail)
  const oidc = loaded;
  if (oidc) {
    // Quire's client credentials (at the token endpoint) or its access token (at userinfo) refused
    if (err instanceof oidc.WWWAuthenticateChallengeError) return true;
    if (err instanceof oidc.ResponseBodyError) return ['invalid_client', 'unauthorized_client'].includes(err.error);
    if (err instanceof oidc.ClientError) {
      return [
        'OAUTH_TIMEOUT',
        'OAUTH_ABORT',
        'OAUTH_RESPONSE_IS_NOT_CONFORM',
        'OAUTH_RESPONSE_IS_NOT_JSON',
        'OAUTH_HTTP_REQUEST_FORBIDDEN',
      ].includes(err.code ?? '');
    }
  }
  // fetch's own failure (refused, reset, DNS): a TypeError without a code of openid-client's argument checks
  return err instanceof TypeError && !String((err as { code?: unknown }).code ?? '').startsWith('ERR_INVALID');
}

/** What may be logged of an error from the provider's side: its kind and code, never a token or a response body. */
function describeError(err: unknown): Record<string, unknown> {
  const oidc = loaded;
  if (oidc && err instanceof oidc.ResponseBodyError) return { kind: err.name, error: err.error, status: err.status };
  if (oidc && err instanceof oidc.AuthorizationResponseError) return { kind: err.name, error: err.error };
  if (oidc && err instanceof oidc.WWWAuthenticateChallengeError) {
    // its body is never read: let the connection go
    void err.response.body?.cancel().catch(() => {});
    return { kind: err.name, status: err.status, challenges: err.cause.map((c) => [c.scheme, c.parameters.error]) };
  }
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? { cause: err.cause.message } : {};
    return { kind: err.name, code: (err as { code?: unknown }).code, message: err.message, ...cause };
  }
  return { kind: typeof err };
}

/** One query parameter, or undefined when absent or given more than once. */
function param(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A new account for someone the provider signed in: no password (they may be given one later). */
async function createUser(users: Accounts, name: string, displayName: string | undefined): Promise<User> {
  try {
    return await users.create({ name, ...(displayName && { displayName }) });
  } catch (err) {
    // two first sign-ins of the same person raced; the other one created the account
    if (err instanceof UserExistsError) {
      const raced = await users.findByName(name);
      if (raced) return raced;
    }
    throw err;
  }
}

const claimText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

/**
 * GET /login/oidc and GET /login/oidc/callback. Discovery is lazy (tried when Quire is ready, then on each sign-in
 * until it succeeds), so Quire starts while the provider is down and single sign-on works once it is back.
 */
export function registerOidcRoutes(app: FastifyInstance, opts: OidcRouteOptions): void {
  const settings = resolveOidcOptions(opts.oidc);
  const { sessions } = opts;
  const provider = new ProviderConfiguration(settings);
  const label = settings.displayName;
  const scopes = new Set(settings.scopes.split(' '));

  app.addHook('onReady', async () => {
    const issuer = new URL(settings.issuer);
    if (issuer.protocol === 'http:' && !isLoopback(issuer)) {
      app.log.warn(
        { issuer: settings.issuer },
        'single sign-on: the provider is reached over plain HTTP; its answers and Quire client secret can be read on the way',
      );
    }
    // ask early so the first sign-in does not wait; a provider that is down now is asked again on the first one
    void provider.get().then(
      () => app.log.info({ issuer: settings.issuer }, 'single sign-on: discovered the provider'),
      (err: unknown) =>
        app.log.warn(
          { issuer: settings.issuer, err: describeError(err) },
          'single sign-on: the provider could not be reached; asking again at the first sign-in',
        ),
    );
  });

  const unavailable = (reply: FastifyReply, next: string) =>
    sendSignInProblem(reply.header('retry-after', '30'), 503, {
      title: 'Single sign-on is unavailable',
      message: `Quire could not reach ${escapeHtml(label)} (${escapeHtml(new URL(settings.issuer).host)}). Try again in a moment, or sign in with your Quire password.`,
      next,
      label,
    });

  app.get(OIDC_START_PATH, async (request, reply) => {
    const next = safeNextPath(param(request, 'next'));
    let config: OidcLib.Configuration;
    try {
      config = await provider.get();
    } catch (err) {
      request.log.warn({ issuer: settings.issuer, err: describeError(err) }, 'single sign-on: provider unreachable');
      return unavailable(reply, next);
    }
    const oidc = await openidClient();
    const flow: Flow = {
      codeVerifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      next,
    };
    const target = oidc.buildAuthorizationUrl(config, {
      redirect_uri: opts.redirectUri(),
      scope: settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    const sealed = await sealFlow(flow, sessions.secret, sessions.now());
    return reply
      .header('set-cookie', flowCookie(app, sessions, sealed, FLOW_TTL_SECONDS))
      .header('cache-control', 'no-store')
      .redirect(target.href, 303);
  });

  app.get(OIDC_CALLBACK_PATH, async (request, reply) => {
    // whatever happens next, this flow is over: its cookie goes
    reply.header('set-cookie', flowCookie(app, sessions, '', 0));
    const raw = request.headers.cookie ? app.parseCookie(request.headers.cookie)[flowCookieName(sessions)] : undefined;
    const flow = raw ? await openFlow(raw, sessions.secret, sessions.now()) : null;
    const next = flow?.next ?? '/';
    const problem = (status: number, title: string, message: string, retry = true) =>
      sendSignInProblem(reply, status, { title, message, next, label, retry });

    const error = param(request, 'error');
    if (error !== undefined) {
      request.log.info({ error }, 'single sign-on: the provider refused the sign-in');
      const description = param(request, 'error_description');
      const why = description ? ` It said: “${escapeHtml(description.slice(0, 300))}”` : '';
      return error === 'access_denied'
        ? problem(403, 'Sign-in cancelled', `${escapeHtml(label)} did not sign you in to Quire.${why}`)
        : problem(
            400,
            'Sign-in refused',
            `${escapeHtml(label)} answered with the error <code>${escapeHtml(error.slice(0, 100))}</code>.${why}`,
          );
    }
    if (!flow) {
      request.log.info('single sign-on: callback without a live sign-in of this browser');
      return problem(
        400,
        'Sign-in expired',
        'This sign-in was not started in this browser, or took longer than ten minutes. Start it again.',
      );
    }
    const state = param(request, 'state');
    if (state === undefined || state !== flow.state || param(request, 'code') === undefined) {
      request.log.info('single sign-on: callback whose state is not the one this browser started with');
      return problem(
        400,
        'Sign-in refused',
        'The answer that came back does not belong to the sign-in this browser started. Start it again.',
      );
    }

    let config: OidcLib.Configuration;
    try {
      config = await provider.get();
    } catch (err) {
      request.log.warn({ issuer: settings.issuer, err: describeError(err) }, 'single sign-on: provider unreachable');
      return unavailable(reply, next);
    }

    const oidc = await openidClient();
    let claims: Record<string, unknown>;
    try {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      const tokens = await oidc.authorizationCodeGrant(config, new URL(`${opts.redirectUri()}${query}`), {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new oidc.ClientError('the provider sent no ID token');
      claims = { ...idClaims };
      // Many providers put profile and group claims only in the userinfo answer when they also issue an access token.
      const wanted = [
        settings.userClaim,
        'name',
        ...(settings.groupsClaim && opts.groups ? [settings.groupsClaim] : []),
      ];
      if (wanted.some((c) => claims[c] === undefined) && config.serverMetadata().userinfo_endpoint) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // what the signed ID token says wins over the userinfo answer
        claims = { ...info, ...idClaims };
      }
    } catch (err) {
      if (isProviderFault(err)) {
        request.log.warn({ issuer: settings.issuer, err: describeError(err) }, 'single sign-on: the provider failed');
        return problem(
          502,
          'Single sign-on failed',
          `${escapeHtml(label)} did not complete the sign-in (it was unreachable, or refused Quire's client settings). Try again in a moment; if it keeps failing, tell your administrator.`,
        );
      }
      request.log.info({ err: describeError(err) }, 'single sign-on: the answer did not pass verification');
      return problem(
        400,
        'Sign-in refused',
        `The answer from ${escapeHtml(label)} could not be verified (it may have been used already, or be too old). Start the sign-in again.`,
      );
    }

    const claimed = claimText(claims[settings.userClaim])?.trim();
    if (!claimed) {
      request.log.warn({ claim: settings.userClaim }, 'single sign-on: the provider did not send the user name claim');
      return problem(
        400,
        'Sign-in refused',
        `${escapeHtml(label)} did not say who you are: its answer has no <code>${escapeHtml(settings.userClaim)}</code> claim, which Quire takes your user name from. Ask your administrator to release it to Quire${scopes.has('profile') ? '' : ' (or to add the "profile" scope)'}.`,
        false,
      );
    }
    if (settings.userClaim === 'email' && claims.email_verified === false) {
      return problem(
        403,
        'Sign-in refused',
        `${escapeHtml(label)} has not verified your email address, which Quire takes your user name from.`,
        false,
      );
    }
    let name: string;
    try {
      name = checkUserName(claimed);
    } catch (err) {
      return problem(
        400,
        'Sign-in refused',
        `Your name at ${escapeHtml(label)} cannot be a Quire user name: ${escapeHtml((err as Error).message)}.`,
        false,
      );
    }
    let displayName: string | undefined;
    try {
      const text = claimText(claims.name);
      displayName = text === undefined ? undefined : checkDisplayName(text);
    } catch {
      displayName = undefined;
    }

    const known = await sessions.users.findByName(name);
    const user = known ?? (await createUser(sessions.users, name, displayName));
    if (user.disabledAt) {
      request.log.info({ userId: user.id }, 'single sign-on: refused a disabled account');
      return problem(
        403,
        'Account disabled',
        `Your Quire account (${escapeHtml(user.name)}) has been disabled. Ask an administrator to enable it.`,
        false,
      );
    }

    let groups: Awaited<ReturnType<typeof syncProviderGroups>> | undefined;
    if (settings.groupsClaim && opts.groups) {
      // no claim at all is no groups: a person taken out of every group at the provider loses them here too
      const parsed = groupNamesFromClaim(claims[settings.groupsClaim]);
      if (parsed.skipped.length) {
        request.log.warn({ userId: user.id, skipped: parsed.skipped }, 'single sign-on: left out unusable group names');
      }
      groups = await syncProviderGroups(opts.groups, user.id, parsed.names, sessions.now());
      if (groups.local.length) {
        request.log.warn(
          { userId: user.id, groups: groups.local },
          'single sign-on: the provider names groups that Quire manages itself; membership left as it is',
        );
      }
    }

    await startSession(app, reply, sessions, user);
    request.log.info(
      {
        userId: user.id,
        created: known === null,
        ...(groups && { joined: groups.joined, left: groups.left, createdGroups: groups.created }),
      },
      'signed in through single sign-on',
    );
    return reply.header('cache-control', 'no-store').redirect(at(reply, flow.next), 303);
  });
}
