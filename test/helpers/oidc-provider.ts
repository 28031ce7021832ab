import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on 127.0.0.1, for the single sign-on tests: one
 * confidential client (authorization code flow, PKCE required), its development sign-in and consent pages, and the
 * people in `accounts` (whatever login is typed in, the claims are that entry's; change an entry between sign-ins
 * to change what the provider says).
 */

export interface TestAccount {
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

export interface TestProvider {
  /** The issuer URL, http://127.0.0.1:PORT */
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  /** Lets the client use this redirect URI (Quire's, known once it listens). Call before any sign-in. */
  start(redirectUri: string): void;
  close(): Promise<void>;
}

/** Listens now (so the issuer URL is known); answers once `start` is given Quire's redirect URI. */
export async function startTestProvider(port = 0): Promise<TestProvider> {
  // requests that come before `start` (Quire discovering the provider as it starts) wait for it
  const waiting: Array<[IncomingMessage, ServerResponse]> = [];
  const server: Server = createServer((req, res) => void waiting.push([req, res]));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  const clientId = 'quire';
  const clientSecret = randomBytes(24).toString('base64url');
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    start(redirectUri) {
      const configuration: Configuration = {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        pkce: { required: () => true },
        claims: {
          openid: ['sub'],
          profile: ['name', 'preferred_username', 'groups'],
          email: ['email', 'email_verified'],
        },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        async findAccount(_ctx, id) {
          return {
            accountId: id,
            async claims() {
              const account = accounts.get(id) ?? {};
              return { sub: id, ...account, ...(account.email && { email_verified: true }) };
            },
          };
        },
      };
      const provider = new Provider(issuer, configuration);
      // the development pages warn on every start; the tests know
      provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
      const callback = provider.callback();
      server.removeAllListeners('request');
      server.on('request', callback);
      for (const [req, res] of waiting.splice(0)) void callback(req, res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cookies as one browser keeps them for 127.0.0.1 (every port: cookies do not tell ports apart), paths ignored. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        return (
          (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
          (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now())
        );
      });
      if (gone || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** fetch with this jar's cookies, redirects not followed; the answer's cookies are kept. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: this.header() },
    });
    this.take(res);
    return res;
  }
}

const decode = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"');

/**
 * Walks a sign-in through the provider as a browser would: from `startUrl` (Quire's /login/oidc?…) along the
 * redirects, signing in as `login` and consenting on the provider's pages, until the provider sends the browser back
 * to Quire's callback. Answers the callback URL without requesting it, so a test can look at it, change it, or go on.
 */
export async function throughProvider(jar: CookieJar, startUrl: string, login: string): Promise<string> {
  let res = await jar.fetch(startUrl);
  const quireOrigin = new URL(startUrl).origin;
  for (let step = 0; step < 20; step++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, res.url || startUrl);
      if (next.origin === quireOrigin && next.pathname === '/login/oidc/callback') return next.href;
      res = await jar.fetch(next.href);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`the provider answered ${res.status}: ${html.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no sign-in or consent form in: ${html.slice(0, 500)}`);
    const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt };
    res = await jar.fetch(new URL(decode(action), res.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
  throw new Error('the provider never sent the browser back to Quire');
}
