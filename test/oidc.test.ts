import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupNamesFromClaim } from '../src/access/provider-groups.ts';
import { serveSettings, UsageError } from '../src/cli/options.ts';
import { nameKey } from '../src/storage/name-key.ts';
import type { AccessStore, UserStore } from '../src/storage/types.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { CookieJar, startTestProvider, type TestProvider, throughProvider } from './helpers/oidc-provider.ts';

/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider on 127.0.0.1), over HTTP as a browser would
 * go: Quire's /login/oidc, the provider's sign-in and consent pages, back to Quire's callback.
 */

/** Every log line Quire writes, as text. */
function logCollector(): { stream: Writable; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('single sign-on through OpenID Connect', () => {
  let provider: TestProvider;
  let host: TestHost;
  const log = logCollector();
  let access: AccessStore;
  let users: UserStore;

  before(async () => {
    provider = await startTestProvider();
    host = await startHost({
      oidc: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        displayName: 'Example ID',
      },
      logger: { level: 'debug', stream: log.stream },
    });
    provider.start(`${host.url}/login/oidc/callback`);
    access = host.quire.host.storage.access as AccessStore;
    users = host.quire.host.storage.users as UserStore;
    provider.accounts.set('ann', {
      preferred_username: 'ann',
      name: 'Ann Provider',
      email: 'ann@example.org',
      groups: ['Engineering', 'Design'],
    });
  });
  after(async () => {
    await host?.close();
    await provider?.close();
  });

  const groupsOf = async (userId: string) =>
    (await access.groupsOf(userId)).map((g) => `${g.name} (${g.source})`).sort();

  /** Signs in as `login` at the provider in a fresh browser; answers the callback's response and the jar. */
  async function signInAs(login: string, next?: string) {
    const jar = new CookieJar();
    const start = `${host.url}/login/oidc${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`;
    const callback = await throughProvider(jar, start, login);
    const res = await jar.fetch(callback);
    return { res, text: await res.text(), jar, callback };
  }

  it('offers the provider on the sign-in page', async () => {
    const res = await fetch(`${host.url}/login?next=${encodeURIComponent('/files/x')}`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(
      html,
      /<a class="button sso" id="sso" href="\/login\/oidc\?next=%2Ffiles%2Fx">Sign in with Example ID<\/a>/,
    );
    assert.match(html, /name="password"/, 'the password form stays');
  });

  it('signs a new person in: the account is created from the claims, with their provider groups', async () => {
    const { res, jar } = await signInAs('ann');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/');
    assert.equal(jar.get('quire_oidc'), undefined, 'the flow cookie is gone');
    const session = jar.get('quire_session');
    assert.ok(session, 'a session cookie is set');

    const me = await fetch(`${host.url}/api/me`, {
      headers: { cookie: `quire_session=${session}`, accept: 'application/json' },
    });
    assert.equal(me.status, 200);
    const who = (await me.json()) as { name: string; displayName: string; isAdmin: boolean };
    assert.deepEqual([who.name, who.displayName, who.isAdmin], ['ann', 'Ann Provider', false]);

    const user = await host.quire.accounts?.findByName('ann');
    assert.ok(user);
    assert.equal((await users.findByKey('ann'))?.passwordHash, null, 'no password');
    assert.deepEqual(await groupsOf(user.id), ['Design (provider)', 'Engineering (provider)']);
  });

  it('keeps provider groups in step at the next sign-in, and never touches local groups', async () => {
    const user = await host.quire.accounts?.findByName('ann');
    assert.ok(user);
    const now = host.clock.now();
    const local = await access.createGroup({
      name: 'Board',
      nameKey: nameKey('Board'),
      source: 'local',
      createdAt: now,
    });
    await access.addMember(local.id, user.id);
    // an admin's group the provider also names: the provider must not put people into it
    const keep = await access.createGroup({
      name: 'Staff',
      nameKey: nameKey('Staff'),
      source: 'local',
      createdAt: now,
    });
    provider.accounts.set('ann', {
      preferred_username: 'ann',
      name: 'Ann Renamed',
      groups: ['engineering', 'Sales', 'Staff', '  ', 'Sales'],
    });

    const { res } = await signInAs('ann');
    assert.equal(res.status, 303);
    assert.deepEqual(await groupsOf(user.id), ['Board (local)', 'Engineering (provider)', 'Sales (provider)']);
    assert.deepEqual(await access.members(keep.id), [], 'not made a member of a local group');
    const design = await access.findGroup(nameKey('Design'));
    assert.equal(design?.source, 'provider', 'the group itself stays');
    assert.deepEqual(await access.members(design?.id ?? ''), []);

    // no groups claim at all: no provider groups (someone taken out of every group loses them here too)
    provider.accounts.set('ann', { preferred_username: 'ann', name: 'Ann Provider' });
    assert.equal((await signInAs('ann')).res.status, 303);
    assert.deepEqual(await groupsOf(user.id), ['Board (local)']);
  });

  it('signs in an account made in Quire under the same name, and keeps its password', async () => {
    const made = await host.quire.accounts?.create({
      name: 'Carl',
      displayName: 'Carl Local',
      password: 'correct horse 1',
    });
    assert.ok(made);
    provider.accounts.set('carl-at-idp', { preferred_username: 'carl', name: 'Carl From IdP' });
    const { res, jar } = await signInAs('carl-at-idp');
    assert.equal(res.status, 303);
    const me = await fetch(`${host.url}/api/me`, {
      headers: { cookie: `quire_session=${jar.get('quire_session')}`, accept: 'application/json' },
    });
    assert.equal(((await me.json()) as { id: string }).id, made.id);
    assert.ok(await host.quire.accounts?.verifyPassword('carl', 'correct horse 1'), 'the password still works');
  });

  it('goes back to the page that was asked for, and only to a page of Quire', async () => {
    assert.equal(
      (await signInAs('ann', '/files/abc/open?action=edit')).res.headers.get('location'),
      '/files/abc/open?action=edit',
    );
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const { res } = await signInAs('ann', evil);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/', `next=${evil}`);
    }
  });

  it('refuses a callback whose state was tampered with, or whose flow cookie was', async () => {
    const jar = new CookieJar();
    const callback = await throughProvider(jar, `${host.url}/login/oidc`, 'ann');
    const flow = jar.get('quire_oidc');
    assert.ok(flow);

    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const res = await jar.fetch(tampered.href);
    const html = await res.text();
    assert.equal(res.status, 400);
    assert.match(html, /does not belong to the sign-in this browser started/);
    assert.equal(jar.get('quire_session'), undefined);

    // the same answer with a forged flow cookie (its signature changed) is refused too
    const forged = `${flow.slice(0, -4)}${flow.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    jar.set('quire_oidc', forged);
    const res2 = await jar.fetch(callback);
    assert.equal(res2.status, 400);
    assert.match(await res2.text(), /Sign-in expired/);
    assert.equal(jar.get('quire_session'), undefined);

    // and a callback in a browser that started nothing
    const res3 = await new CookieJar().fetch(callback);
    assert.equal(res3.status, 400);
    await res3.arrayBuffer();
  });

  it('refuses the answer once the flow is older than ten minutes', async () => {
    const jar = new CookieJar();
    const callback = await throughProvider(jar, `${host.url}/login/oidc`, 'ann');
    host.clock.advance(11 * 60 * 1000);
    const res = await jar.fetch(callback);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /took longer than ten minutes/);
    assert.equal(jar.get('quire_session'), undefined);
  });

  it('refuses an authorization code used twice', async () => {
    const jar = new CookieJar();
    const callback = await throughProvider(jar, `${host.url}/login/oidc`, 'ann');
    const flow = jar.get('quire_oidc') as string;
    assert.equal((await jar.fetch(callback)).status, 303);
    const replay = new CookieJar();
    replay.set('quire_oidc', flow);
    const res = await replay.fetch(callback);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /could not be verified/);
    assert.equal(replay.get('quire_session'), undefined);
  });

  it("says what went wrong when the provider sends an error, with the flow's way back", async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${host.url}/login/oidc?next=%2Factivity`);
    assert.equal(start.status, 303);
    const state = new URL(start.headers.get('location') as string).searchParams.get('state');
    const res = await jar.fetch(
      `${host.url}/login/oidc/callback?error=access_denied&error_description=${encodeURIComponent('<b>no</b>')}&state=${state}`,
    );
    const html = await res.text();
    assert.equal(res.status, 403);
    assert.match(html, /Sign-in cancelled/);
    assert.match(html, /&lt;b&gt;no&lt;\/b&gt;/, 'the description is escaped');
    assert.match(html, /href="\/login\?next=%2Factivity"/);
    assert.match(html, /href="\/login\/oidc\?next=%2Factivity"/);
  });

  it('refuses a disabled account, and a provider answer without the user name claim', async () => {
    provider.accounts.set('dora', { preferred_username: 'dora', name: 'Dora', groups: ['Ops'] });
    assert.equal((await signInAs('dora')).res.status, 303);
    const dora = await host.quire.accounts?.findByName('dora');
    assert.ok(dora);
    await users.setDisabled(dora.id, host.clock.now());
    const { res, text, jar } = await signInAs('dora');
    assert.equal(res.status, 403);
    assert.match(text, /has been disabled/);
    assert.equal(jar.get('quire_session'), undefined);

    provider.accounts.set('nameless', { name: 'No Name' });
    const nameless = await signInAs('nameless');
    assert.equal(nameless.res.status, 400);
    assert.match(nameless.text, /no <code>preferred_username<\/code> claim/);
    assert.equal(await host.quire.accounts?.findByName('nameless'), null);
  });

  it('writes no authorization code, token or client secret to the log', async () => {
    const { callback, res } = await signInAs('ann');
    assert.equal(res.status, 303);
    const code = new URL(callback).searchParams.get('code') as string;
    const text = log.text();
    assert.match(text, /signed in through single sign-on/);
    assert.match(
      text,
      /login\/oidc\/callback\?code=\[redacted\]/,
      'the callback request is logged, its code taken out',
    );
    assert.ok(!text.includes(code), 'no authorization code');
    assert.ok(!text.includes(provider.clientSecret), 'no client secret');
    assert.ok(!/eyJ[\w-]{8,}\.[\w-]{2,}\./.test(text), 'no ID token or session');
  });
});

describe('single sign-on while the provider is down', () => {
  it('starts anyway, says so on a clear page, and works once the provider is back', async () => {
    // a port nobody listens on, for now
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const host = await startHost({
      oidc: { issuer: `http://127.0.0.1:${port}`, clientId: 'quire', clientSecret: 'not used yet' },
    });
    let provider: TestProvider | undefined;
    try {
      const res = await fetch(`${host.url}/login/oidc`, { redirect: 'manual' });
      const html = await res.text();
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '30');
      assert.match(html, /Single sign-on is unavailable/);
      assert.match(html, /Sign in with your Quire password|sign in with your Quire password/);
      const login = await (await fetch(`${host.url}/login`)).text();
      assert.match(login, /Sign in with single sign-on/, 'the default label');

      provider = await startTestProvider(port);
      provider.start(`${host.url}/login/oidc/callback`);
      await sleep(5_100); // the pause after a failed discovery
      const res2 = await fetch(`${host.url}/login/oidc`, { redirect: 'manual' });
      await res2.arrayBuffer();
      assert.equal(res2.status, 303);
      assert.ok(res2.headers.get('location')?.startsWith(`http://127.0.0.1:${port}/auth?`));

      // Quire was given another secret than the provider knows: the code cannot be redeemed, and the page says whose
      // fault that is (a 502, not the person's 4xx)
      provider.accounts.set('ann', { preferred_username: 'ann' });
      const jar = new CookieJar();
      const callback = await throughProvider(jar, `${host.url}/login/oidc`, 'ann');
      const res3 = await jar.fetch(callback);
      assert.equal(res3.status, 502);
      assert.match(await res3.text(), /refused Quire's client settings/);
      assert.equal(jar.get('quire_session'), undefined);
    } finally {
      await host.close();
      await provider?.close();
    }
  });
});

describe('reading a groups claim', () => {
  it('takes strings, trims and normalizes them, and skips repeats and unusable names', () => {
    assert.deepEqual(groupNamesFromClaim(undefined), { names: [], skipped: [] });
    assert.deepEqual(groupNamesFromClaim('Solo').names, ['Solo']);
    const parsed = groupNamesFromClaim([' A ', 'a', 'Cafe\u0301', '', 'x'.repeat(129), 'bad\u0007', 7]);
    assert.deepEqual(parsed.names, ['A', 'Café']);
    assert.deepEqual(
      parsed.skipped.map((s) => s.reason),
      ['empty', 'longer than 128 characters', 'contains control characters', 'not a string'],
    );
  });
});

describe('single sign-on settings on the command line', () => {
  it('reads flags, or the environment (the secret best from there), and keeps "" for no group sync', () => {
    const { options } = serveSettings(
      ['--oidc-issuer', 'https://id.example.org/realms/staff', '--oidc-groups-claim', '', '--oidc-name', 'Example ID'],
      { QUIRE_OIDC_CLIENT_ID: 'quire', QUIRE_OIDC_CLIENT_SECRET: 's3cret', QUIRE_OIDC_USER_CLAIM: 'email' },
    );
    assert.deepEqual(options.oidc, {
      issuer: 'https://id.example.org/realms/staff',
      clientId: 'quire',
      clientSecret: 's3cret',
      userClaim: 'email',
      groupsClaim: '',
      displayName: 'Example ID',
    });
    assert.equal(serveSettings([], {}).options.oidc, undefined, 'off unless an issuer is given');
  });

  it('refuses half a configuration, and an issuer that is not a URL', () => {
    assert.throws(() => serveSettings(['--oidc-issuer', 'https://id.example.org'], {}), UsageError);
    assert.throws(() => serveSettings(['--oidc-client-id', 'quire'], {}), UsageError);
    assert.throws(() => serveSettings(['--oidc-issuer', 'id.example.org', '--oidc-client-id', 'q'], {}), UsageError);
  });
});
