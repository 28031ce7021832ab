import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { ManualClock } from '../src/core/clock.ts';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { Accounts, InvalidUserInputError, UserExistsError, UserNotFoundError } from '../src/users/accounts.ts';
import { DEFAULT_HASH_PARAMS, PasswordHasher } from '../src/users/passwords.ts';
import { currentUser, requireUser, type SessionOptions } from '../src/web/session.ts';
import { registerSessionRoutes } from '../src/web/sign-in.ts';
import { type SqlStorage, storageKinds } from './helpers/host.ts';

const PASSWORD = 'correct horse battery';
// Real argon2id, at a cost that keeps the suite quick; the last suite uses the production default.
const CHEAP = { memoryCost: 4096, timeCost: 1, parallelism: 1 };

/** A minimal app shaped like src/http/app.ts: no body parsing, every body left on request.raw. */
async function startApp(opts: SessionOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: Number.MAX_SAFE_INTEGER });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  await app.register(fastifyCookie, { hook: false });
  registerSessionRoutes(app, opts);
  app.get('/private', { preHandler: requireUser(opts) }, async (request) => {
    const user = await currentUser(request, opts);
    return { id: user?.id, name: user?.name, displayName: user?.displayName };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

/** The name=value part of the session cookie a response sets. */
const sessionCookieOf = (res: Response): string | undefined =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith('quire_session='))
    ?.split(';')[0];

for (const kind of storageKinds)
  describe(`users and sessions (${kind.name})`, () => {
    let dir: string;
    let storage: SqlStorage;
    let users: Accounts;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const secret = new TextEncoder().encode(randomBytes(48).toString('base64url'));
    let opts: SessionOptions;
    let url: string;
    let app: FastifyInstance;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'quire-users-'));
      storage = await kind.open(dir);
      users = new Accounts(storage.users, clock, new PasswordHasher(CHEAP));
      opts = { users, secret, now: () => clock.now() };
      ({ app, url } = await startApp(opts));
      await users.create({ name: 'Alice', displayName: 'Alice Example', password: PASSWORD });
    });
    after(async () => {
      await app.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** Every row of the users table, as the database holds it. */
    const userRows = () =>
      storage.db.all<{ name: string; password_hash: string | null }>(
        `SELECT * FROM ${storage.db.dialect.table('users')} ORDER BY name_key`,
      );

    const signIn = async (fields: Record<string, string> = { name: 'alice', password: PASSWORD }) =>
      fetch(`${url}/login`, form(fields));

    const openPrivate = (cookie?: string, accept = 'text/html') =>
      fetch(`${url}/private`, { redirect: 'manual', headers: { accept, ...(cookie && { cookie }) } });

    it('creates a user and finds it by id and by name in any case', async () => {
      const bob = await users.create({ name: 'Bob', password: 'bobs password', isAdmin: true });
      assert.match(bob.id, /^[0-9a-f]{32}$/);
      assert.equal(bob.displayName, 'Bob', 'display name defaults to the name');
      assert.equal(bob.isAdmin, true);
      assert.equal(bob.createdAt, clock.now());
      assert.deepEqual(await users.findById(bob.id), bob);
      assert.deepEqual(await users.findByName('bOB'), bob);
      assert.equal(await users.findByName('nobody'), null);
      assert.deepEqual(
        (await users.list()).map((u) => u.name),
        ['Alice', 'Bob'],
      );
    });

    it('refuses a duplicate name in any case', async () => {
      await assert.rejects(users.create({ name: 'ALICE', password: 'another password' }), UserExistsError);
      await assert.rejects(users.create({ name: 'alice', password: 'another password' }), UserExistsError);
    });

    it('refuses short passwords and bad names with a clear error', async () => {
      await assert.rejects(users.create({ name: 'carol', password: 'short' }), (err: unknown) => {
        assert.ok(err instanceof InvalidUserInputError);
        assert.equal(err.field, 'password');
        assert.match(err.message, /at least 8 characters/);
        return true;
      });
      await assert.rejects(users.setPassword('alice', '1234567'), InvalidUserInputError);
      for (const name of ['', 'x'.repeat(65), 'tab\there', 'new\nline', ' padded']) {
        await assert.rejects(users.create({ name, password: PASSWORD }), InvalidUserInputError, JSON.stringify(name));
      }
      assert.ok(await users.create({ name: 'ü'.repeat(64), password: PASSWORD }), '64 characters are allowed');
      assert.equal(await users.findByName('carol'), null);
    });

    it('stores argon2id hashes, never the password', async () => {
      const rows = await userRows();
      assert.ok(rows.length >= 2);
      for (const row of rows) {
        assert.match(row.password_hash ?? '', /^\$argon2id\$v=19\$/, row.name);
        assert.ok(!row.password_hash?.includes(PASSWORD));
      }
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes(PASSWORD) && !dump.includes('bobs password'));
    });

    it('verifies passwords; setPassword replaces the old one', async () => {
      assert.equal((await users.verifyPassword('ALICE', PASSWORD))?.name, 'Alice');
      assert.equal(await users.verifyPassword('alice', 'wrong password'), null);
      assert.equal(await users.verifyPassword('nobody', PASSWORD), null);
      await users.setPassword('bob', 'new bob password');
      assert.equal(await users.verifyPassword('bob', 'bobs password'), null);
      assert.equal((await users.verifyPassword('bob', 'new bob password'))?.name, 'Bob');
      await assert.rejects(users.setPassword('nobody', PASSWORD), UserNotFoundError);
    });

    it('does the same argon2 work for an unknown name as for a wrong password', async () => {
      // Counted rather than timed (timings on a shared machine are noise): both paths must run exactly one full
      // verification against a hash of the same parameters, so response time does not tell which names exist.
      class CountingHasher extends PasswordHasher {
        readonly checked: string[] = [];
        override verify(hash: string, password: string): Promise<boolean> {
          this.checked.push(hash.split('$').slice(0, 4).join('$'));
          return super.verify(hash, password);
        }
      }
      const hasher = new CountingHasher(CHEAP);
      const counted = new Accounts(storage.users, clock, hasher);
      await counted.create({ name: 'gina', password: PASSWORD });
      assert.equal(await counted.verifyPassword('gina', 'wrong password'), null);
      const known = [...hasher.checked];
      hasher.checked.length = 0;
      assert.equal(await counted.verifyPassword('nobody-here', 'wrong password'), null);
      assert.equal(known.length, 1);
      assert.deepEqual(hasher.checked, known, 'one verification, same argon2 variant and parameters');
    });

    it('rehashes a password made with other parameters at its next successful check', async () => {
      const stronger = new Accounts(storage.users, clock, new PasswordHasher({ ...CHEAP, timeCost: 2 }));
      await stronger.create({ name: 'frank', password: PASSWORD });
      const hashOf = async () => (await storage.users.findByKey('frank'))?.passwordHash ?? '';
      assert.match(await hashOf(), /\$m=4096,p=1,t=2\$/);
      assert.equal(await users.verifyPassword('frank', 'wrong password'), null);
      assert.match(await hashOf(), /\$m=4096,p=1,t=2\$/, 'a wrong password changes nothing');
      assert.ok(await users.verifyPassword('frank', PASSWORD));
      assert.match(await hashOf(), /\$m=4096,p=1,t=1\$/);
      assert.ok(await users.verifyPassword('frank', PASSWORD));
    });

    it('runs no more hashes at once than it is allowed, and finishes them all', async () => {
      const one = new PasswordHasher(CHEAP, 1);
      const hashes = await Promise.all(['a', 'b', 'c', 'd'].map((p) => one.hash(`password ${p}`)));
      assert.equal(new Set(hashes).size, 4);
      assert.deepEqual(await Promise.all(hashes.map((h, i) => one.verify(h, `password ${'abcd'[i]}`))), [
        true,
        true,
        true,
        true,
      ]);
    });

    it('serves an accessible sign-in form', async () => {
      const res = await fetch(`${url}/login?next=${encodeURIComponent('/private?x="<b>')}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      assert.match(html, /<meta name="viewport"/);
      assert.match(html, /<label for="login-name">/);
      assert.match(html, /<label for="login-password">/);
      assert.match(html, /id="login-password" name="password" type="password"/);
      assert.match(html, /name="next" value="\/private\?x=%22%3Cb%3E"/, 'next is normalized and escaped');
      assert.ok(!html.includes('<b>'));
    });

    it('answers a wrong password with 401, a clear message and no cookie', async () => {
      const res = await signIn({ name: 'alice', password: 'wrong password', next: '/private' });
      assert.equal(res.status, 401);
      assert.equal(sessionCookieOf(res), undefined);
      assert.deepEqual(res.headers.getSetCookie(), []);
      const html = await res.text();
      assert.match(html, /role="alert"[^>]*>That name and password do not match an account/);
      const unknown = await signIn({ name: '<script>alert(1)</script>', password: 'wrong password' });
      assert.equal(unknown.status, 401);
      const unknownHtml = await unknown.text();
      assert.ok(!unknownHtml.includes('<script>'), 'the name is escaped');
      assert.match(unknownHtml, /&lt;script&gt;/);
    });

    it('signs in with the right password: 303 to next with an HttpOnly, SameSite=Lax cookie', async () => {
      const res = await signIn({ name: 'alice', password: PASSWORD, next: '/private?tab=1' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/private?tab=1');
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('quire_session='));
      assert.ok(setCookie);
      assert.match(setCookie, /; HttpOnly/i);
      assert.match(setCookie, /; SameSite=Lax/i);
      assert.match(setCookie, /; Path=\/(;|$)/);
      assert.match(setCookie, /; Max-Age=43200/);
      assert.doesNotMatch(setCookie, /; Secure/i);
    });

    it('the cookie opens the protected route, which knows who is asking', async () => {
      const cookie = sessionCookieOf(await signIn());
      assert.ok(cookie);
      const res = await openPrivate(cookie);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { name: string; displayName: string };
      assert.equal(body.name, 'Alice');
      assert.equal(body.displayName, 'Alice Example');
    });

    it('sends browsers without a session to /login?next=…, and JSON clients a 401', async () => {
      const browser = await openPrivate();
      assert.equal(browser.status, 303);
      assert.equal(browser.headers.get('location'), `/login?next=${encodeURIComponent('/private')}`);
      const script = await openPrivate(undefined, 'application/json');
      assert.equal(script.status, 401);
      assert.equal(((await script.json()) as { error: string }).error, 'sign in required');
      const both = await openPrivate(undefined, 'text/html;q=0.5, application/json');
      assert.equal(both.status, 401);
    });

    it('treats a tampered or forged cookie as signed out', async () => {
      const cookie = sessionCookieOf(await signIn());
      assert.ok(cookie);
      const [name, token] = cookie.split('=') as [string, string];
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const bob = await users.findByName('bob');
      const otherPayload = Buffer.from(JSON.stringify({ ...claims, sub: bob?.id })).toString('base64url');
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const bad of [
        `${header}.${otherPayload}.${signature}`,
        `${header}.${payload}.${flipped}`,
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
        'garbage',
      ]) {
        const res = await openPrivate(`${name}=${bad}`, 'application/json');
        assert.equal(res.status, 401, bad);
      }
    });

    it('ends the session when it expires (12 hours by default)', async () => {
      const cookie = sessionCookieOf(await signIn());
      assert.ok(cookie);
      clock.advance(11 * 60 * 60 * 1000);
      assert.equal((await openPrivate(cookie)).status, 200);
      clock.advance(60 * 60 * 1000 + 1000);
      const res = await openPrivate(cookie);
      assert.equal(res.status, 303);
      assert.match(res.headers.get('location') ?? '', /^\/login/);
    });

    it('logout clears the cookie and redirects to /login', async () => {
      const cookie = sessionCookieOf(await signIn());
      assert.ok(cookie);
      const res = await fetch(`${url}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/login');
      const cleared = res.headers.getSetCookie().find((c) => c.startsWith('quire_session='));
      assert.ok(cleared);
      assert.match(cleared, /^quire_session=;/);
      assert.match(cleared, /Max-Age=0/);
      assert.match(cleared, /Expires=Thu, 01 Jan 1970/);
    });

    it('does not follow an open redirect in next', async () => {
      for (const next of [
        '//evil.example',
        '//evil.example/path',
        '/\\evil.example',
        'https://evil.example/',
        'evil',
      ]) {
        const res = await signIn({ name: 'alice', password: PASSWORD, next });
        assert.equal(res.status, 303, next);
        assert.equal(res.headers.get('location'), '/', next);
      }
    });

    it('refuses a sign-in form posted from another site', async () => {
      const res = await fetch(`${url}/login`, {
        ...form({ name: 'alice', password: PASSWORD }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      });
      assert.equal(res.status, 403);
      assert.equal(sessionCookieOf(res), undefined);
    });

    it('refuses oversized and non-form bodies', async () => {
      const big = await signIn({ name: 'alice', password: 'x'.repeat(20_000) });
      assert.equal(big.status, 413);
      const json = await fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'alice', password: PASSWORD }),
        redirect: 'manual',
      });
      assert.equal(json.status, 415);
    });

    it('ignores the proxy user header unless configured', async () => {
      const res = await fetch(`${url}/private`, {
        redirect: 'manual',
        headers: { accept: 'application/json', 'x-remote-user': 'alice' },
      });
      assert.equal(res.status, 401);
    });

    describe('behind a trusted single-sign-on proxy', () => {
      let proxied: { app: FastifyInstance; url: string };
      before(async () => {
        proxied = await startApp({ ...opts, trustedUserHeader: 'X-Remote-User' });
      });
      after(() => proxied.app.close());

      const asProxy = (user?: string) =>
        fetch(`${proxied.url}/private`, {
          redirect: 'manual',
          headers: { accept: 'application/json', ...(user !== undefined && { 'x-remote-user': user }) },
        });

      it('signs in an existing user named by the header', async () => {
        const res = await asProxy('ALICE');
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { name: string }).name, 'Alice');
      });

      it('creates an unknown user on first sight, without a password', async () => {
        assert.equal(await users.findByName('dave'), null);
        const first = await asProxy('dave');
        assert.equal(first.status, 200);
        const dave = await users.findByName('dave');
        assert.ok(dave);
        assert.equal(((await first.json()) as { id: string }).id, dave.id);
        assert.equal(
          ((await (await asProxy('Dave')).json()) as { id: string }).id,
          dave.id,
          'same user the second time',
        );
        assert.equal((await storage.users.findById(dave.id))?.passwordHash, null);
        assert.equal(await users.verifyPassword('dave', ''), null);
        assert.equal(await users.verifyPassword('dave', 'any password at all'), null);
      });

      it('without the header, falls back to the session cookie', async () => {
        assert.equal((await asProxy()).status, 401);
        const cookie = sessionCookieOf(await signIn());
        assert.ok(cookie);
        const res = await fetch(`${proxied.url}/private`, { headers: { accept: 'application/json', cookie } });
        assert.equal(res.status, 200);
      });

      it('treats an invalid name in the header as signed out', async () => {
        assert.equal((await asProxy('x'.repeat(65))).status, 401);
      });
    });
  });

describe('sessions with secure cookies', () => {
  it('marks the cookie Secure with the __Host- prefix (default hashing parameters)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quire-users-'));
    const storage = await openSqliteStorage(dir);
    const clock = new ManualClock();
    const users = new Accounts(storage.users, clock);
    await users.create({ name: 'erin', password: PASSWORD });
    const { app, url } = await startApp({
      users,
      secret: randomBytes(32),
      now: () => clock.now(),
      secureCookies: true,
      ttlMs: 60_000,
    });
    try {
      const res = await fetch(`${url}/login`, form({ name: 'erin', password: PASSWORD }));
      assert.equal(res.status, 303);
      const setCookie = res.headers.getSetCookie()[0] ?? '';
      assert.match(setCookie, /^__Host-quire_session=/);
      assert.match(setCookie, /; Secure/i);
      assert.match(setCookie, /; Max-Age=60/);
      const cookie = setCookie.split(';')[0] as string;
      assert.equal((await fetch(`${url}/private`, { headers: { accept: 'application/json', cookie } })).status, 200);
      const password_hash = (await storage.users.findByKey('erin'))?.passwordHash ?? '';
      const { memoryCost: m, timeCost: t, parallelism: p } = DEFAULT_HASH_PARAMS;
      assert.ok(password_hash.startsWith(`$argon2id$v=19$m=${m},p=${p},t=${t}$`), password_hash);
    } finally {
      await app.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
