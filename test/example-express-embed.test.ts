import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DEMO_USERS, type RunningApp, startApp } from '../examples/express-embed/app.ts';
import { openSqlite } from '../examples/express-embed/sqlite.ts';
import { openFolderStorage } from '../examples/express-embed/storage/index.ts';
import backend from '../examples/express-embed/storage-backend.ts';
import { runStorageContract } from '../src/testing/index.ts';
import { WopiClient } from './helpers/host.ts';
import { runQuire } from './helpers/process-helpers.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * examples/express-embed: an Express app with its own people, sign-in and storage adapter, with Quire mounted under
 * /office. (1) Quire's conformance kit proves the adapter; (2) `quire check` passes against the running app with a
 * token its host page minted for a signed-in person; (3) the app's pages and Quire's work with the app's sign-in,
 * and the app's folder always holds each document's newest version.
 */

// (1) every suite that applies: the app decides access itself (no AccessStore) and sends no webhooks
runStorageContract(backend, { skip: ['access', 'webhooks'] });

describe("the adapter's folder: files/<name> is each live document's newest version", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'quire-folder-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const pass = () => {};
  const inFolder = async () => (await readdir(join(root, 'files'))).filter((n) => !n.startsWith('.')).sort();
  const read = (name: string) => readFile(join(root, 'files', name), 'utf8');

  it('follows saves, renames and deletes, and never removes a name another document took', async () => {
    const storage = await openFolderStorage({ root });
    try {
      const version = async (text: string) => ({
        blob: await storage.blobs.write(Readable.from([Buffer.from(text)])),
        authorId: 'ann',
        source: 'put' as const,
      });
      const a = await storage.catalog.createFile({
        names: ['a.docx'],
        ownerId: 'ann',
        version: await version('a1'),
        now: 1,
      });
      assert.deepEqual(await inFolder(), ['a.docx']);
      await storage.catalog.commitVersion(a.id, await version('a2'), 2, pass);
      assert.equal(await read('a.docx'), 'a2');
      await storage.catalog.renameFile(a.id, ['b.docx'], 3, pass);
      assert.deepEqual(await inFolder(), ['b.docx']);
      // a new document takes the old name, then the first is deleted: the newcomer's file stays
      const c = await storage.catalog.createFile({
        names: ['a.docx'],
        ownerId: 'ann',
        version: await version('c1'),
        now: 4,
      });
      await storage.catalog.deleteFile(a.id, 5, pass);
      assert.deepEqual(await inFolder(), ['a.docx']);
      assert.equal(await read('a.docx'), 'c1');
      // a refused save changes nothing in the folder
      await assert.rejects(
        storage.catalog.commitVersion(c.id, await version('refused'), 6, () => {
          throw new Error('refused by the guard');
        }),
      );
      assert.equal(await read('a.docx'), 'c1');
    } finally {
      await storage.close();
    }
  });

  it('a crash between the commit and the copy is finished on the next open', async () => {
    // as if the process died after committing a.docx and before copying it: the folder has never seen it
    const db = openSqlite(join(root, 'app.db'));
    db.prepare("UPDATE documents SET mirrored_name = NULL, mirrored_version = NULL WHERE name = 'a.docx'").run();
    db.close();
    await rm(join(root, 'files', 'a.docx'));
    const storage = await openFolderStorage({ root });
    try {
      assert.deepEqual(await inFolder(), ['a.docx']);
      assert.equal(await read('a.docx'), 'c1');
    } finally {
      await storage.close();
    }
  });
});

const person = (login: string) => {
  const user = DEMO_USERS.find((u) => u.login === login);
  assert.ok(user, login);
  return user;
};

describe('the express-embed example app', () => {
  let root: string;
  let editor: StandInEditor;
  let app: RunningApp;

  /** Signs in through the app's own form; answers the Cookie header to send. */
  async function signIn(login: string, password = person(login).password): Promise<string> {
    const res = await fetch(`${app.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ login, password, next: '/' }),
      redirect: 'manual',
    });
    assert.equal(res.status, 303, `signing in as ${login}`);
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    assert.match(cookie ?? '', /^app_session=./);
    return cookie as string;
  }

  const get = (path: string, cookie?: string, accept = 'text/html') =>
    fetch(`${app.url}${path}`, { headers: { accept, ...(cookie && { cookie }) }, redirect: 'manual' });

  const idOf = async (name: string) => {
    const file = await app.storage.catalog.findByName(name);
    assert.ok(file, name);
    return file.id;
  };

  /** The access token the host page posts to the editor, as a signed-in person's browser would receive it. */
  async function hostPageToken(cookie: string, fileId: string, action: 'edit' | 'view' = 'edit') {
    const res = await get(`/office/files/${fileId}/open?action=${action}`, cookie);
    const html = await res.text();
    assert.equal(res.status, 200, html);
    const token = html.match(/name="access_token" value="([^"]+)"/)?.[1];
    assert.ok(token, 'the host page carries a token');
    return token;
  }

  /** files/ as the rest of the app sees it, and what Quire serves as each live document's content. */
  async function folderAgainstQuire(cookie: string) {
    const folder = (await readdir(app.storage.filesDir)).filter((n) => !n.startsWith('.')).sort();
    const live = (await app.storage.catalog.listFiles()).map((f) => f.name).sort();
    assert.deepEqual(folder, live, 'files/ holds exactly the live documents, by name');
    for (const file of await app.storage.catalog.listFiles()) {
      const token = await hostPageToken(cookie, file.id, 'view');
      const served = await new WopiClient(`${app.url}/office`, file.id, token).content();
      assert.deepEqual(await readFile(join(app.storage.filesDir, file.name)), served, `files/${file.name} is the head`);
    }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'quire-express-embed-'));
    editor = await startStandInEditor();
    app = await startApp({ root, port: 0, editorUrl: editor.url });
  });
  after(async () => {
    await app?.close();
    await editor?.close();
    await rm(root, { recursive: true, force: true });
  });

  describe("the app's own pages and sign-in", () => {
    it('sends strangers to its sign-in page, refuses a wrong password, and lists the documents once signed in', async () => {
      const anonymous = await get('/');
      assert.equal(anonymous.status, 303);
      assert.equal(anonymous.headers.get('location'), '/login');
      const form = await get('/login');
      assert.equal(form.status, 200);
      assert.match(await form.text(), /<form class="login card" method="post" action="\/login">/);

      const wrong = await fetch(`${app.url}/login`, {
        method: 'POST',
        body: new URLSearchParams({ login: 'bob', password: 'not his password' }),
        redirect: 'manual',
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('set-cookie'), null, 'no sign-in for a wrong password');
      assert.match(await wrong.text(), /do not match/);

      const bob = await signIn('bob');
      const list = await get('/', bob);
      assert.equal(list.status, 200);
      const html = await list.text();
      const budget = await idOf('Budget 2026.xlsx');
      const notes = await idOf('Case notes.docx');
      // his own document opens for editing, Alice's only for viewing: the app's rule, asked through Quire's seam
      assert.ok(html.includes(`href="/office/files/${budget}/open?action=edit">Open</a>`), html);
      assert.ok(html.includes(`href="/office/files/${notes}/open?action=view">View</a>`), html);
      assert.match(html, /Bob Baker/);
    });

    it('serves a document straight from its folder; an unknown name is 404 and a stranger is sent to sign in', async () => {
      const bob = await signIn('bob');
      const res = await get(`/download/${encodeURIComponent('Budget 2026.xlsx')}`, bob);
      assert.equal(res.status, 200);
      assert.deepEqual(
        Buffer.from(await res.arrayBuffer()),
        await readFile(new URL('../templates/blank.xlsx', import.meta.url)),
      );
      assert.equal((await get('/download/nothing.docx', bob)).status, 404);
      assert.equal((await get(`/download/${encodeURIComponent('../app.db')}`, bob)).status, 404);
      assert.equal((await get('/download/Budget%202026.xlsx')).status, 303);
    });

    it('signing out ends the sign-in for the app and for Quire at once', async () => {
      const carol = await signIn('carol');
      assert.equal((await get('/office/api/files', carol, 'application/json')).status, 200);
      const out = await fetch(`${app.url}/logout`, { method: 'POST', headers: { cookie: carol }, redirect: 'manual' });
      assert.equal(out.status, 303);
      assert.equal((await get('/', carol)).status, 303);
      assert.equal((await get('/office/api/files', carol, 'application/json')).status, 401);
    });
  });

  describe("Quire's pages under /office, with the app's sign-in", () => {
    it("opens Quire's pages and API for the app's people, and sends strangers to the app's sign-in", async () => {
      const bob = await signIn('bob');
      const page = await get('/office/', bob);
      assert.equal(page.status, 200, await page.clone().text());
      assert.match(await page.text(), /<html/);

      const api = await get('/office/api/files', bob, 'application/json');
      assert.equal(api.status, 200);
      const files = (await api.json()) as Array<{ id: string; name: string; role?: string }>;
      assert.deepEqual(files.map((f) => f.name).sort(), ['Budget 2026.xlsx', 'Case notes.docx']);

      const stranger = await get(`/office/files/${await idOf('Budget 2026.xlsx')}/open?action=edit`);
      assert.equal(stranger.status, 303);
      const quireLogin = stranger.headers.get('location') ?? '';
      assert.match(quireLogin, /^\/office\/login\?next=/);
      const toApp = await get(quireLogin);
      assert.equal(toApp.status, 303);
      const next = new URL(toApp.headers.get('location') ?? '', app.url);
      assert.equal(next.pathname, '/login');
      assert.equal(next.searchParams.get('next'), `/office/files/${await idOf('Budget 2026.xlsx')}/open?action=edit`);
      assert.equal((await get('/office/api/files', undefined, 'application/json')).status, 401);
    });

    it("the host page's token carries the app's rule: Bob edits his own document and only views Alice's", async () => {
      const bob = await signIn('bob');
      const own = await idOf('Budget 2026.xlsx');
      const hers = await idOf('Case notes.docx');
      const info = async (cookie: string, id: string) => {
        const res = await new WopiClient(`${app.url}/office`, id, await hostPageToken(cookie, id)).checkFileInfo();
        assert.equal(res.status, 200, res.text);
        return res.json as Record<string, unknown>;
      };
      const mine = await info(bob, own);
      assert.equal(mine.UserCanWrite, true);
      assert.equal(mine.UserFriendlyName, 'Bob Baker');
      assert.equal((await info(bob, hers)).UserCanWrite, false, 'a viewer of Alice’s document');
      // Alice, the app's admin, may edit Bob's
      assert.equal((await info(await signIn('alice'), own)).UserCanWrite, true);
    });

    it('an upload through Quire’s API lands in the folder, and an editor’s save replaces it there', async () => {
      const carol = await signIn('carol');
      const upload = await fetch(`${app.url}/office/api/files?name=${encodeURIComponent('Minutes.docx')}`, {
        method: 'POST',
        headers: { cookie: carol, origin: app.url, 'content-type': 'application/octet-stream' },
        body: 'first minutes',
      });
      assert.equal(upload.status, 201, await upload.clone().text());
      assert.equal(await readFile(join(app.storage.filesDir, 'Minutes.docx'), 'utf8'), 'first minutes');

      const id = await idOf('Minutes.docx');
      const client = new WopiClient(`${app.url}/office`, id, await hostPageToken(carol, id));
      assert.equal((await client.lock('carol-lock')).status, 200);
      const save = await client.putFile(Buffer.from('second minutes'), { 'X-WOPI-Lock': 'carol-lock' });
      assert.equal(save.status, 200, save.text);
      // the save was acknowledged: the folder already shows it
      assert.equal(await readFile(join(app.storage.filesDir, 'Minutes.docx'), 'utf8'), 'second minutes');
      assert.equal((await client.unlock('carol-lock')).status, 200);
      await folderAgainstQuire(carol);
    });
  });

  describe('quire check against the running app', () => {
    it('passes every rule against /office/wopi with a token from the host page, and leaves the document as it was', async () => {
      const bob = await signIn('bob');
      const id = await idOf('Budget 2026.xlsx');
      const before = await readFile(join(app.storage.filesDir, 'Budget 2026.xlsx'));
      const token = await hostPageToken(bob, id);
      const res = await runQuire(['check', `${app.url}/office/wopi/files/${id}`, '--token', token], {
        timeoutMs: 120_000,
      });
      const explain = `exit ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
      assert.equal(res.code, 0, explain);
      assert.doesNotMatch(res.stdout, /^FAIL /m, explain);
      assert.match(res.stdout, /\d+ rules: \d+ passed, 0 failed/, explain);
      // the check saved, renamed and put everything back: the folder followed each step and ends where it began
      assert.deepEqual(await readFile(join(app.storage.filesDir, 'Budget 2026.xlsx')), before);
      assert.ok(((await app.storage.catalog.getFile(id))?.version ?? 0) > 1, 'the check did save');
      await folderAgainstQuire(bob);
    });
  });
});
