import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { redactSecrets } from '../src/auth/redact.ts';
import { ManualClock } from '../src/core/clock.ts';
import { Accounts } from '../src/users/accounts.ts';
import { chromiumMissing, launchChromium, SCREENSHOTS } from './helpers/browser.ts';
import { readResponse, type SqlStorage, startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { ServeProcess, waitFor } from './helpers/process-helpers.ts';

/**
 * First run: with no users, Quire makes a one-time setup link (printed by `quire serve`, valid for that process);
 * its page creates the first admin and signs them in. Once anyone has an account, the link is dead.
 */

const PASSWORD = 'correct horse battery';
const LINK = /^http:\/\/127\.0\.0\.1:\d+\/setup\?token=([A-Za-z0-9_-]{43})$/;

const tokenOf = (setupUrl: string) => new URL(setupUrl).searchParams.get('token') as string;

/** POSTs the setup form (its fields, then `extra` headers); the response read in full. */
async function submitSetup(baseUrl: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return readResponse(res);
}

const sessionCookie = (headers: Headers) =>
  headers
    .getSetCookie()
    .find((c) => c.startsWith('quire_session='))
    ?.split(';')[0];

describe('first run, as `quire serve` prints it', () => {
  let dir: string;
  let server: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-first-run-'));
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a setup link that creates the first admin, signs them in, then stops working; the log never shows its token', async () => {
    const data = join(dir, 'data');
    // every request logged (at debug): the token must not be in any of those lines
    server = await ServeProcess.start(data, { args: ['--log-level', 'debug'] });
    const printed = await server.waitForOutput(/^ {2}(http:\/\/\S+\/setup\?token=\S+)$/m);
    const link = printed[1] as string;
    assert.match(link, LINK);
    assert.ok(link.startsWith(`${server.url}/setup?token=`), link);
    assert.match(server.stdout, /First run: no one can sign in yet/);
    assert.match(server.stdout, /npx quire user add NAME --admin/);
    const token = tokenOf(link);

    const login = await fetch(`${server.url}/login`);
    assert.match(await login.text(), /Quire has no accounts yet/);

    const page = await fetch(link);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<h1>Create the first admin<\/h1>/);
    assert.match(html, /<link rel="stylesheet" href="\/static\/app.css">/);

    const created = await submitSetup(server.url, {
      token,
      name: 'root',
      displayName: 'Rita Root',
      password: PASSWORD,
      confirm: PASSWORD,
    });
    assert.equal(created.status, 303, created.text);
    assert.equal(created.headers.get('location'), '/');
    const cookie = sessionCookie(created.headers);
    assert.ok(cookie, 'signed in');
    const me = await fetch(`${server.url}/`, { headers: { cookie } });
    assert.equal(me.status, 200);
    assert.match(await me.text(), /Rita Root/);

    const again = await fetch(link);
    assert.equal(again.status, 410);
    assert.match(await again.text(), /Quire is already set up/);

    // the request log has every one of those requests, never the token
    const logged = (await waitFor(
      () => {
        const lines = (server as ServeProcess).stdout
          .split('\n')
          .filter((l) => l.includes('"request answered"') && l.includes('/setup'));
        return lines.length >= 3 ? lines : undefined;
      },
      10_000,
      'the /setup requests in the log',
    )) as string[];
    assert.ok(
      logged.some((l) => l.includes('/setup?token=[redacted]')),
      logged.join('\n'),
    );
    const everything = `${server.stdout}\n${server.stderr}`;
    assert.equal(everything.split(token).length - 1, 1, 'the token is printed once, in the link, and nowhere else');
    await server.stop();

    // started again with an admin: no link, and /setup says it is done
    server = await ServeProcess.start(data, { args: [] });
    await server.waitForOutput(/Editor: /);
    assert.doesNotMatch(server.stdout, /setup\?token=|First run/);
    const done = await fetch(`${server.url}/setup?token=${token}`);
    assert.equal(done.status, 410);
    const doneHtml = await done.text();
    assert.match(doneHtml, /href="\/login"/);
    assert.doesNotMatch(await (await fetch(`${server.url}/login`)).text(), /no accounts yet/);
  });
});

describe('the redaction of the setup token', () => {
  it('takes token= out of URLs and forms, leaving other parameters (and access_token_ttl) alone', () => {
    assert.equal(redactSecrets('/setup?token=abc-DEF_123&next=/'), '/setup?token=[redacted]&next=/');
    assert.equal(redactSecrets('token=abc&name=root'), 'token=[redacted]&name=root');
    assert.equal(redactSecrets('GET /setup?TOKEN=abc HTTP/1.1'), 'GET /setup?TOKEN=[redacted] HTTP/1.1');
    assert.equal(redactSecrets('/x?access_token_ttl=5&page=2'), '/x?access_token_ttl=5&page=2');
    assert.equal(redactSecrets('/x?csrf_token=kept'), '/x?csrf_token=kept');
  });
});

for (const kind of storageKinds)
  describe(`the setup link (${kind.name})`, () => {
    /** Hosts made by this suite: each test that needs "no users" gets a fresh one. */
    const hosts: TestHost[] = [];
    const freshHost = async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'quire-first-run-'));
      const storage = await kind.open(dataDir);
      const host = await startHost({ storage });
      hosts.push(host);
      return { host, close: () => rm(dataDir, { recursive: true, force: true }) };
    };
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const host of hosts) await host.close();
      for (const cleanup of cleanups) await cleanup();
    });
    const hostWithoutUsers = async () => {
      const { host, close } = await freshHost();
      cleanups.push(close);
      return host;
    };

    it('is offered while there are no users: the link, the page, and a pointer from the sign-in page', async () => {
      const host = await hostWithoutUsers();
      const link = host.quire.setupUrl;
      assert.ok(link);
      assert.match(link, LINK);
      assert.ok(link.startsWith(`${host.url}/setup?token=`));

      const login = await readResponse(await fetch(`${host.url}/login`));
      assert.equal(login.status, 200);
      assert.match(login.text, /Quire has no accounts yet/);
      assert.match(login.text, /open the setup link that\s+<code>quire serve<\/code> printed when it started/);
      assert.match(login.text, /npx quire user add NAME --admin/);

      const page = await readResponse(await fetch(link));
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      for (const [id, label] of [
        ['setup-name', 'Name'],
        ['setup-display-name', 'Display name \\(optional\\)'],
        ['setup-password', 'Password'],
        ['setup-confirm', 'Confirm password'],
      ]) {
        assert.match(page.text, new RegExp(`<label for="${id}">${label}</label>`));
        assert.match(page.text, new RegExp(`<input id="${id}" `));
      }
      assert.match(page.text, /<input id="setup-name" [^>]*autocomplete="username"[^>]* autofocus>/);
      assert.match(page.text, /<input id="setup-password" [^>]*autocomplete="new-password"/);
      assert.match(page.text, new RegExp(`<input type="hidden" name="token" value="${tokenOf(link)}">`));
    });

    it('refuses a missing or wrong token, in the link and in the form, creating no one', async () => {
      const host = await hostWithoutUsers();
      const token = tokenOf(host.quire.setupUrl as string);
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      for (const url of [`${host.url}/setup`, `${host.url}/setup?token=${wrong}`, `${host.url}/setup?token=`]) {
        const res = await readResponse(await fetch(url));
        assert.equal(res.status, 403, url);
        assert.match(res.text, /This setup link is not valid/);
        assert.doesNotMatch(res.text, new RegExp(token), 'the refusal does not tell the token');
      }
      for (const bad of [wrong, '', token.slice(0, 20), `${token}x`]) {
        const res = await submitSetup(host.url, { token: bad, name: 'eve', password: PASSWORD, confirm: PASSWORD });
        assert.equal(res.status, 403, bad);
        assert.equal(sessionCookie(res.headers), undefined);
      }
      const noToken = await submitSetup(host.url, { name: 'eve', password: PASSWORD, confirm: PASSWORD });
      assert.equal(noToken.status, 403);
      assert.deepEqual(await host.quire.accounts?.list(), []);
      assert.ok(host.quire.setupUrl, 'the right link still works');
    });

    it('refuses a form posted from another site, like /login does', async () => {
      const host = await hostWithoutUsers();
      const token = tokenOf(host.quire.setupUrl as string);
      const res = await submitSetup(
        host.url,
        { token, name: 'eve', password: PASSWORD, confirm: PASSWORD },
        { 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(res.status, 403);
      assert.match(res.text, /sent from another site/);
      assert.deepEqual(await host.quire.accounts?.list(), []);
    });

    it('says what is wrong with each field, keeps what was typed (never a password), and creates no one', async () => {
      const host = await hostWithoutUsers();
      const token = tokenOf(host.quire.setupUrl as string);
      const cases: Array<[Record<string, string>, Record<string, RegExp>]> = [
        [
          { name: '', password: '', confirm: '' },
          { name: /Enter a name/, password: /Enter a password/ },
        ],
        [{ name: 'root', password: 'short', confirm: 'short' }, { password: /at least 8 characters/ }],
        [{ name: 'root', password: PASSWORD, confirm: 'something else' }, { confirm: /do not match/ }],
        [{ name: 'root', password: PASSWORD, confirm: '' }, { confirm: /Enter the password again/ }],
        [{ name: 'x'.repeat(65), password: PASSWORD, confirm: PASSWORD }, { name: /1 to 64 characters/ }],
        [
          { name: 'root', displayName: 'a\u0007b', password: PASSWORD, confirm: PASSWORD },
          { 'display-name': /control characters/ },
        ],
      ];
      for (const [fields, expected] of cases) {
        const res = await submitSetup(host.url, { token, ...fields });
        assert.equal(res.status, 400, JSON.stringify(fields));
        assert.equal(sessionCookie(res.headers), undefined);
        assert.match(res.text, /id="setup-problems" role="alert"/);
        for (const [field, message] of Object.entries(expected)) {
          const id = `setup-${field}`;
          assert.match(res.text, new RegExp(`<p class="field-error" id="${id}-error">[^<]*${message.source}`));
          assert.match(res.text, new RegExp(`<input id="${id}" [^>]*aria-describedby="[^"]*${id}-error"`));
          assert.match(res.text, new RegExp(`<input id="${id}" [^>]*aria-invalid="true"`));
          assert.match(res.text, new RegExp(`<a href="#${id}">`), 'the summary links to the field');
        }
        // the first field in error has the focus
        const first = Object.keys(expected)[0];
        assert.match(res.text, new RegExp(`<input id="setup-${first}" [^>]* autofocus>`));
        assert.equal((res.text.match(/ autofocus/g) ?? []).length, 1);
        if (fields.name && fields.name.length <= 64) assert.match(res.text, /id="setup-name" [^>]*value="root"/);
        assert.doesNotMatch(res.text, new RegExp(PASSWORD), 'passwords are never sent back');
      }
      assert.deepEqual(await host.quire.accounts?.list(), []);
    });

    it('creates the first admin, signs them in, and is gone for good afterwards', async () => {
      const host = await hostWithoutUsers();
      const link = host.quire.setupUrl as string;
      const token = tokenOf(link);
      const res = await submitSetup(host.url, {
        token,
        name: 'Root',
        displayName: '  Rita <Root>  ',
        password: PASSWORD,
        confirm: PASSWORD,
      });
      assert.equal(res.status, 303, res.text);
      assert.equal(res.headers.get('location'), '/');
      const cookie = sessionCookie(res.headers);
      assert.ok(cookie);
      const users = await host.quire.accounts?.list();
      assert.equal(users?.length, 1);
      assert.equal(users?.[0]?.name, 'Root');
      assert.equal(users?.[0]?.displayName, 'Rita <Root>');
      assert.equal(users?.[0]?.isAdmin, true);
      // the cookie opens the document list, as that admin
      const home = await readResponse(await fetch(`${host.url}/`, { headers: { cookie }, redirect: 'manual' }));
      assert.equal(home.status, 200);
      assert.match(home.text, /Rita &lt;Root&gt;/);
      // and the password works at the sign-in form
      assert.ok(await host.quire.accounts?.verifyPassword('root', PASSWORD));

      assert.equal(host.quire.setupUrl, undefined, 'no link to show any more');
      const page = await readResponse(await fetch(link));
      assert.equal(page.status, 410);
      assert.match(page.text, /<h1>Quire is already set up<\/h1>/);
      assert.match(page.text, /<a class="button" href="\/login">Sign in<\/a>/);
      const second = await submitSetup(host.url, { token, name: 'eve', password: PASSWORD, confirm: PASSWORD });
      assert.equal(second.status, 410);
      assert.equal(sessionCookie(second.headers), undefined);
      assert.equal((await host.quire.accounts?.list())?.length, 1);
      const login = await readResponse(await fetch(`${host.url}/login`));
      assert.doesNotMatch(login.text, /no accounts yet/);
    });

    it('of several submissions racing, with different names, exactly one creates an admin', async () => {
      const host = await hostWithoutUsers();
      const token = tokenOf(host.quire.setupUrl as string);
      const names = ['ann', 'bob', 'cy', 'dee', 'eve'];
      const answers = await Promise.all(
        names.map((name) => submitSetup(host.url, { token, name, password: PASSWORD, confirm: PASSWORD })),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [303, 410, 410, 410, 410]);
      const users = (await host.quire.accounts?.list()) ?? [];
      assert.equal(users.length, 1);
      assert.equal(users[0]?.isAdmin, true);
      const winner = answers.findIndex((a) => a.status === 303);
      assert.equal(users[0]?.name, names[winner]);
      assert.equal(answers.filter((a) => sessionCookie(a.headers)).length, 1, 'only the winner is signed in');
    });

    it('is closed once someone is added another way (`quire user add` while serving)', async () => {
      const host = await hostWithoutUsers();
      const link = host.quire.setupUrl as string;
      await host.quire.accounts?.create({ name: 'cli-admin', password: PASSWORD, isAdmin: true });
      assert.equal((await fetch(link)).status, 410);
      const res = await submitSetup(host.url, {
        token: tokenOf(link),
        name: 'eve',
        password: PASSWORD,
        confirm: PASSWORD,
      });
      assert.equal(res.status, 410);
      assert.deepEqual(
        (await host.quire.accounts?.list())?.map((u) => u.name),
        ['cli-admin'],
      );
    });

    it('is never made when Quire starts with a user', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'quire-first-run-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const storage: SqlStorage = await kind.open(dataDir);
      await new Accounts(storage.users, new ManualClock()).create({ name: 'ann', password: PASSWORD });
      const host = await startHost({ storage });
      hosts.push(host);
      assert.equal(host.quire.setupUrl, undefined);
      const res = await readResponse(await fetch(`${host.url}/setup?token=anything`));
      assert.equal(res.status, 410);
      assert.match(res.text, /already set up/);
      assert.doesNotMatch((await readResponse(await fetch(`${host.url}/login`))).text, /no accounts yet/);
    });
  });

describe('the setup page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let browser: Browser;
  let page: Page;

  before(async () => {
    host = await startHost({ clock: { now: () => Date.now() } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
  });

  const overflowOf = (p: Page) => p.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  const focusedId = (p: Page) => p.evaluate<string>('document.activeElement && document.activeElement.id');

  it('walks a first run: sign-in points to setup, the form checks what is typed, and the admin lands signed in', async () => {
    // nobody can sign in yet: the sign-in page says where to go
    await page.goto(`${host.url}/`);
    await page.waitForURL(/\/login/);
    await page.getByText('Quire has no accounts yet.').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-first-run.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(page)) <= 0, 'the sign-in page fits a phone');
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-first-run-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1200, height: 900 });

    // a link from an earlier start (or mistyped) says what to do instead
    const stale = await page.goto(`${host.url}/setup?token=from-an-earlier-start`);
    assert.equal(stale?.status(), 403);
    await page.getByRole('heading', { name: 'This setup link is not valid' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'setup-bad-link.png'), fullPage: true });

    const link = host.quire.setupUrl as string;
    await page.goto(link);
    await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
    assert.equal(await focusedId(page), 'setup-name', 'the name field has the focus');
    await page.screenshot({ path: join(SCREENSHOTS, 'setup.png'), fullPage: true });

    // by keyboard alone: type, Tab to the next field, Enter to send
    await page.keyboard.type('root');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Rita Root');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the same password');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /The two passwords do not match/);
    assert.equal(await focusedId(page), 'setup-confirm', 'the field in error has the focus');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'root', 'what was typed is kept');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'passwords are not');
    await page.screenshot({ path: join(SCREENSHOTS, 'setup-invalid.png'), fullPage: true });

    // at phone width: nothing wider than the screen
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(page)) <= 0, 'the setup page fits a phone');
    await page.screenshot({ path: join(SCREENSHOTS, 'setup-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1200, height: 900 });

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${host.url}/`),
      page.getByRole('button', { name: 'Create admin and sign in' }).click(),
    ]);
    await page.getByText('Rita Root').first().waitFor();
    const [admin] = (await host.quire.accounts?.list()) ?? [];
    assert.equal(admin?.isAdmin, true);

    // the link is spent
    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'Quire is already set up' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'setup-done.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(page)) <= 0);
  });
});
