import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildExpectedProof, msToDotNetTicks } from '../src/auth/proof-keys.ts';
import { createQuire, type EmbeddedQuire } from '../src/embed.ts';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { chromiumMissing, launchChromium, SCREENSHOTS, signInThroughPage } from './helpers/browser.ts';
import { WopiClient } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * Quire mounted inside other servers under /office: a bare node:http server, Express (mount path stripped by
 * Express), and Fastify (the plugin). Each keeps answering its own routes; Quire answers the WOPI endpoints, its
 * pages, its API and its health checks under the prefix, bodies streamed untouched.
 */

const PASSWORD = 'correct horse 1';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

interface Mounted {
  url: string;
  close(): Promise<void>;
}

/** How each kind of server mounts Quire: it listens first (to learn its port), then mounts what createQuire gave. */
const mounts: Array<{ name: string; start(mount: (origin: string) => Promise<EmbeddedQuire>): Promise<Mounted> }> = [
  {
    name: 'node:http',
    async start(mount) {
      let quire: Listener | undefined;
      const server: Server = createServer((req, res) => {
        if (quire && (req.url === '/office' || req.url?.startsWith('/office/'))) return quire(req, res);
        res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end('the app');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      quire = (await mount(origin)).handler;
      return {
        url: origin,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  },
  {
    name: 'Express',
    async start(mount) {
      const app = express();
      let quire: Listener | undefined;
      app.use('/office', (req, res, next) => (quire ? quire(req, res) : next()));
      app.get('/', (_req, res) => {
        res.type('text/plain').send('the app');
      });
      const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      quire = (await mount(origin)).handler;
      return {
        url: origin,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  },
  {
    name: 'Fastify',
    async start(mount) {
      const app: FastifyInstance = Fastify();
      app.get('/', async () => 'the app');
      // Fastify needs its routes before it listens: learn the port from a first server, then mount for real
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const origin = `http://127.0.0.1:${port}`;
      const quire = await mount(origin);
      await app.register(quire.fastifyPlugin);
      await app.listen({ port, host: '127.0.0.1' });
      return { url: origin, close: () => app.close() };
    },
  },
];

for (const kind of mounts) {
  describe(`Quire mounted under /office in ${kind.name}`, () => {
    let server: Mounted;
    let quire: EmbeddedQuire;
    let dataDir: string;
    let base: string;
    let fileId: string;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'quire-embed-'));
      server = await kind.start(async (origin) => {
        quire = await createQuire({ dataDir, publicUrl: `${origin}/office`, logger: false });
        return quire;
      });
      base = `${server.url}/office`;
      await quire.quire.accounts?.create({ name: 'ann', displayName: 'Ann', password: PASSWORD });
      const ann = await quire.quire.accounts?.findByName('ann');
      const file = await quire.quire.addFile({
        source: Readable.from([Buffer.from('hello')]),
        name: 'Notes.docx',
        ownerId: ann?.id ?? '',
      });
      fileId = file.id;
    });
    after(async () => {
      await server?.close();
      await quire?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it("keeps the app's own routes, and answers Quire's under the prefix only", async () => {
      const own = await fetch(`${server.url}/`);
      assert.equal(own.status, 200);
      assert.equal(await own.text(), 'the app');
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal(quire.basePath, '/office');
      // the WOPI endpoint is not at the root of the site
      const rootWopi = await fetch(`${server.url}/wopi/files/${fileId}`);
      assert.equal(rootWopi.status, 404);
      assert.notEqual(rootWopi.headers.get('x-wopi-itemversion'), '1');
    });

    it('serves the WOPI endpoint under the prefix: WOPISrc, lock, a streamed save, read back', async () => {
      assert.equal(quire.quire.wopiSrc(fileId), `${base}/wopi/files/${fileId}`);
      const token = (await quire.quire.mintToken({ fileId, userId: 'alice', userName: 'Alice' })).access_token;
      const c = new WopiClient(base, fileId, token);
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200);
      assert.equal((info.json as { BaseFileName: string }).BaseFileName, 'Notes.docx');
      assert.equal((await c.lock('L1')).status, 200);
      const body = randomBytes(3 * 1024 * 1024);
      const put = await c.putFile(body, { 'X-WOPI-Lock': 'L1' });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers.get('x-wopi-itemversion'), '2');
      assert.deepEqual(await c.content(), body);
      // a refusal drains its body and answers, through the host server too
      const refused = await c.putFile(randomBytes(1024 * 1024), { 'X-WOPI-Lock': 'not-the-lock' });
      assert.equal(refused.status, 409);
      assert.equal(refused.headers.get('x-wopi-lock'), 'L1');
      assert.equal((await c.unlock('L1')).status, 200);
    });

    it('serves its pages under the prefix: sign-in redirects, cookies and links all stay there', async () => {
      const first = await fetch(`${base}/`, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(first.status, 303);
      assert.equal(first.headers.get('location'), '/office/login');
      const asked = await fetch(`${base}/files/${fileId}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(asked.headers.get('location'), `/office/login?next=${encodeURIComponent(`/files/${fileId}`)}`);

      const login = await fetch(`${base}/login`);
      const loginHtml = await login.text();
      assert.match(loginHtml, /action="\/office\/login"/);
      assert.match(loginHtml, /href="\/office\/static\/app\.css"/);
      assert.doesNotMatch(loginHtml, /(href|src|action)="\/(?!office\/)/, 'every link of the page under /office');

      const signedIn = await fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
        body: new URLSearchParams({ name: 'ann', password: PASSWORD, next: `/files/${fileId}` }),
      });
      assert.equal(signedIn.status, 303);
      assert.equal(signedIn.headers.get('location'), `/office/files/${fileId}`);
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      assert.match(cookie, /^quire_session=/);

      const page = await fetch(`${base}/files/${fileId}`, { headers: { cookie } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /src="\/office\/static\/[a-z-]+\.js"/);
      assert.doesNotMatch(html, /(href|src|action)="\/(?!office\/)/, 'every link of the page under /office');
      assert.equal((await fetch(`${base}/static/app.js`)).status, 200);

      const me = await fetch(`${base}/api/me`, { headers: { cookie, accept: 'application/json' } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { name: string }).name, 'ann');
      // another app drives the same API under the prefix with a service key, and gets URLs under it
      const made = await quire.quire.apiKeys?.create(
        { name: 'intranet', scopes: ['files:read', 'tokens'] },
        { userId: 'operator', userName: 'operator' },
      );
      assert.ok(made);
      const bearer = { authorization: `Bearer ${made.key}`, accept: 'application/json' };
      const listed = await fetch(`${base}/api/files`, { headers: bearer });
      assert.equal(listed.status, 200);
      const [listedFile] = (await listed.json()) as Array<{ urls: { history: string; download: string } }>;
      assert.equal(listedFile?.urls.history, `/office/files/${fileId}`);
      assert.equal(listedFile?.urls.download, `/office/api/files/${fileId}/content`);
      const minted = await fetch(`${base}/api/files/${fileId}/tokens`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ user: { id: 'u7', name: 'Una' }, role: 'viewer' }),
      });
      assert.equal(minted.status, 201, await minted.clone().text());
      const { hostPageUrl, wopiSrc } = (await minted.json()) as { hostPageUrl: string; wopiSrc: string };
      assert.ok(hostPageUrl.startsWith(`${base}/embed/`), hostPageUrl);
      assert.equal(wopiSrc, `${base}/wopi/files/${fileId}`);
      // a key lacking the scope is refused, naming it
      const refused = await fetch(`${base}/api/files/${fileId}/rename`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Other.docx' }),
      });
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /files:write/);

      const anonymous = await fetch(`${base}/api/me`, { headers: { accept: 'application/json' } });
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { login: string }).login, '/office/login');
    });
  });
}

describe("createQuire with the app's own sign-in and access rules", () => {
  let server: Server;
  let quire: EmbeddedQuire;
  let dataDir: string;
  let base: string;
  let fileId: string;
  // the app's own people and its own rule: readers may view every document, writers edit; nobody else sees any
  const people: Record<string, { displayName: string; role: 'viewer' | 'editor' | null; admin?: boolean }> = {
    ann: { displayName: 'Ann from the app', role: 'viewer' },
    wes: { displayName: 'Wes Writer', role: 'editor' },
    max: { displayName: 'Max Blocked', role: null },
  };
  const asked: string[] = [];
  let editor: StandInEditor;

  before(async () => {
    editor = await startStandInEditor();
    dataDir = await mkdtemp(join(tmpdir(), 'quire-embed-'));
    let handler: Listener | undefined;
    server = createServer((req, res) => handler?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/office`;
    quire = await createQuire({
      dataDir,
      publicUrl: base,
      logger: false,
      editor: { url: editor.url },
      signInUrl: '/signin?from=quire',
      // the app's session cookie names the person; "suspended" people are refused outright
      identify: async (request) => {
        const name = /(?:^|;\s*)app_user=([a-z]+)/.exec(request.headers.cookie ?? '')?.[1];
        if (!name) return undefined;
        if (name === 'suspended') return null;
        const person = people[name];
        return person ? { name, displayName: person.displayName, isAdmin: person.admin === true } : null;
      },
      access: {
        async accessTo(subject) {
          if (subject.kind !== 'user') return null;
          asked.push(subject.user.name);
          const role = people[subject.user.name]?.role ?? null;
          return role && { role, via: 'app', secureView: null };
        },
        async visibleFileIds(user) {
          return people[user.name]?.role ? null : [];
        },
      },
    });
    handler = quire.handler;
    const file = await quire.quire.addFile({
      source: Readable.from([Buffer.from('report')]),
      name: 'Report.docx',
      ownerId: 'the-app',
    });
    fileId = file.id;
  });
  after(async () => {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await quire?.close();
    await editor?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const as = (name: string) => ({ cookie: `app_user=${name}`, accept: 'application/json' });

  it("signs people in with the app's cookie, creating their account on first sight", async () => {
    const me = await fetch(`${base}/api/me`, { headers: as('ann') });
    assert.equal(me.status, 200);
    const body = (await me.json()) as { name: string; displayName: string; isAdmin: boolean };
    assert.deepEqual([body.name, body.displayName, body.isAdmin], ['ann', 'Ann from the app', false]);
    assert.ok(await quire.quire.accounts?.findByName('ann'), 'an account without a password');
    // no cookie of the app: Quire's own sign-in decides (nobody signed in)
    assert.equal((await fetch(`${base}/api/me`, { headers: { accept: 'application/json' } })).status, 401);
    // a browser nobody signed in with goes to the app's own sign-in page, and comes back after
    const page = await fetch(`${base}/files/${fileId}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(page.status, 303);
    assert.equal(
      page.headers.get('location'),
      `/signin?from=quire&next=${encodeURIComponent(`/office/files/${fileId}`)}`,
    );
    const api = await fetch(`${base}/api/me`, { headers: { accept: 'application/json' } });
    assert.equal(((await api.json()) as { login: string }).login, '/signin?from=quire');
    // the app refuses someone: so does Quire
    assert.equal((await fetch(`${base}/api/me`, { headers: as('suspended') })).status, 401);
    // the app makes someone an admin: Quire follows, next request
    people.ann = { ...(people.ann as (typeof people)['ann']), admin: true };
    const promoted = (await (await fetch(`${base}/api/me`, { headers: as('ann') })).json()) as { isAdmin: boolean };
    assert.equal(promoted.isAdmin, true);
    people.ann = { displayName: 'Ann from the app', role: 'viewer' };
    await fetch(`${base}/api/me`, { headers: as('ann') });
  });

  it("asks the app's access rules, for the API, the host page and every WOPI request", async () => {
    const forAnn = await fetch(`${base}/api/files/${fileId}`, { headers: as('ann') });
    assert.equal(forAnn.status, 200);
    assert.equal(((await forAnn.json()) as { role: string }).role, 'viewer');
    assert.equal((await fetch(`${base}/api/files/${fileId}`, { headers: as('max') })).status, 404);
    const list = (await (await fetch(`${base}/api/files`, { headers: as('max') })).json()) as unknown[];
    assert.deepEqual(list, []);
    assert.ok(asked.includes('ann') && asked.includes('max'));

    // the host page: Wes may edit, so the token lets the editor write; Ann's only reads
    for (const [name, write] of [
      ['wes', true],
      ['ann', false],
    ] as const) {
      const page = await fetch(`${base}/files/${fileId}/open?action=edit`, { headers: { cookie: `app_user=${name}` } });
      assert.equal(page.status, 200, name);
      const token = /name="access_token" value="([^"]+)"/.exec(await page.text())?.[1];
      assert.ok(token, name);
      const info = await new WopiClient(base, fileId, token).checkFileInfo();
      assert.equal(info.status, 200);
      assert.equal((info.json as { UserCanWrite: boolean }).UserCanWrite, write, name);
      const lock = await new WopiClient(base, fileId, token).lock(`lock-${name}`);
      assert.equal(lock.status, write ? 200 : 401, name);
      if (write) assert.equal((await new WopiClient(base, fileId, token).unlock(`lock-${name}`)).status, 200);
    }

    // the app takes Wes's rights away: his token stops working within a second
    const page = await fetch(`${base}/files/${fileId}/open?action=edit`, { headers: { cookie: 'app_user=wes' } });
    const token = /name="access_token" value="([^"]+)"/.exec(await page.text())?.[1] as string;
    people.wes = { displayName: 'Wes Writer', role: null };
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await new WopiClient(base, fileId, token).checkFileInfo()).status, 401);
  });
});

describe('Quire’s pages mounted under /office, in a real browser', { skip: chromiumMissing }, () => {
  it('signs in, lists, shares, opens the history and the activity, all under /office', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-embed-'));
    const app = express();
    let quire: EmbeddedQuire | undefined;
    app.use('/office', (req, res, next) => (quire ? quire.handler(req, res) : next()));
    app.get('/', (_req, res) => {
      res.type('text/plain').send('the app');
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/office`;
    quire = await createQuire({ dataDir, publicUrl: base, logger: false, clock: { now: () => Date.now() } });
    const browser = await launchChromium();
    try {
      const accounts = quire.quire.accounts;
      assert.ok(accounts);
      const ann = await accounts.create({ name: 'ann', displayName: 'Ann Owner', password: PASSWORD });
      await accounts.create({ name: 'bob', displayName: 'Bob Colleague', password: PASSWORD });
      await quire.quire.addFile({ source: Readable.from([Buffer.from('v1')]), name: 'Plan.docx', ownerId: ann.id });
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const outside: string[] = [];
      page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.origin === new URL(base).origin && !url.pathname.startsWith('/office/')) outside.push(url.pathname);
      });
      await signInThroughPage(page, base, 'ann', PASSWORD);
      assert.equal(new URL(page.url()).pathname, '/office/');
      await page.waitForSelector('body[data-ready="true"]');
      const row = page.locator('#files tbody tr[data-name="Plan.docx"]');
      await row.waitFor();

      // the share dialog talks to the API under /office
      await page.getByRole('button', { name: 'Share Plan.docx' }).click();
      await page.waitForSelector('#share-dialog[data-ready="true"]');
      const dialog = page.getByRole('dialog', { name: 'Share Plan.docx' });
      await dialog.getByLabel('Person or group').selectOption({ label: 'Bob Colleague (bob)' });
      await dialog.getByRole('button', { name: 'Share', exact: true }).click();
      await dialog
        .getByRole('status')
        .filter({ hasText: /Shared with Bob Colleague/ })
        .waitFor();
      await dialog.getByText('Create a link').click();
      await dialog.getByRole('button', { name: 'Create link' }).click();
      const link = await dialog.getByLabel('Address of link 1').inputValue();
      assert.match(link, new RegExp(`^${base}/s/`));
      await page.keyboard.press('Escape');

      // history, then activity, through the links the pages draw
      await row.getByRole('link', { name: 'History of Plan.docx' }).click();
      await page.waitForSelector('body[data-ready="true"]');
      assert.match(new URL(page.url()).pathname, /^\/office\/files\//);
      await page.getByRole('link', { name: 'Activity', exact: true }).first().click();
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(new URL(page.url()).pathname, '/office/activity');
      // the Teams events read as sentences, names and all
      await page
        .locator('.event-what', { hasText: 'Ann Owner shared Plan.docx with Bob Colleague as an editor' })
        .waitFor();
      await page.locator('.event-what', { hasText: 'Ann Owner made a viewer link to Plan.docx' }).waitFor();
      await page.locator('.event-what', { hasText: 'Ann Owner imported Plan.docx' }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'embedded-activity.png') });

      // signing out lands on the sign-in page under /office
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/login`);
      assert.deepEqual(outside, [], 'nothing asked outside /office');
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await quire.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('proof keys when Quire is mounted under a path', () => {
  it('checks the proof against the URL the editor called, base path included', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64url').toString('base64');
    const editor = await startStandInEditor({ proofKey: { modulus: b64(jwk.n), exponent: b64(jwk.e) } });
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-embed-'));
    let handler: Listener | undefined;
    const server = createServer((req, res) => handler?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/office`;
    const quire = await createQuire({
      dataDir,
      publicUrl: base,
      logger: false,
      editor: { url: editor.url, proofKeys: 'enforce' },
    });
    handler = quire.handler;
    try {
      const file = await quire.quire.addFile({
        source: Readable.from([Buffer.from('x')]),
        name: 'S.docx',
        ownerId: 'o',
      });
      const token = (await quire.quire.mintToken({ fileId: file.id, userId: 'u' })).access_token;
      const c = new WopiClient(base, file.id, token);
      const signed = (url: string) => {
        const ticks = msToDotNetTicks(Date.now());
        const proof = sign('sha256', buildExpectedProof(token, url, ticks), pair.privateKey).toString('base64');
        return { 'X-WOPI-Proof': proof, 'X-WOPI-ProofOld': proof, 'X-WOPI-TimeStamp': ticks.toString() };
      };
      const ok = await c.checkFileInfo(signed(c.fileUrl()));
      assert.equal(ok.status, 200, ok.text);
      // a proof for the URL without its base path is a proof for another URL
      const wrong = await c.checkFileInfo(signed(c.fileUrl().replace('/office/', '/')));
      assert.equal(wrong.status, 500);
    } finally {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await quire.close();
      await editor.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('createQuire: mistakes in its options', () => {
  it('refuses to start without a public URL, or with a query in it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-embed-'));
    try {
      await assert.rejects(createQuire({ dataDir } as never), /publicUrl/);
      await assert.rejects(createQuire({ dataDir, publicUrl: 'http://127.0.0.1/office?x=1' }), /query/);
      await assert.rejects(createQuire({ dataDir, publicUrl: 'not a url' }), /not a URL/);
      // identify without a user store would be ignored: said at once instead
      const storage = await openSqliteStorage(dataDir);
      try {
        await assert.rejects(
          createQuire({
            dataDir,
            publicUrl: 'http://127.0.0.1/office',
            storage: { ...storage, users: undefined },
            identify: async () => undefined,
          }),
          /identify needs a storage with users/,
        );
      } finally {
        await storage.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
