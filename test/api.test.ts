import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { User } from '../src/users/accounts.ts';
import { type ReadResponse, readResponse, signIn, startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { closeHost, pieces, rawPost } from './helpers/put-helpers.ts';

const MINUTE = 60_000;
const LOCK_TTL_MS = 30 * MINUTE;
const EVIL_ORIGIN = 'http://evil.example';

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();

type ApiResponse = ReadResponse;

interface ApiRequest {
  method?: string;
  cookie?: string;
  headers?: Record<string, string>;
  /** Sent as the raw body. */
  body?: string | Uint8Array;
  /** Sent as application/json. */
  json?: unknown;
}

async function call(host: TestHost, path: string, req: ApiRequest = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  if (req.cookie) headers.Cookie = req.cookie;
  let body = req.body;
  if (req.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = JSON.stringify(req.json);
  }
  const res = await fetch(`${host.url}${path}`, {
    method: req.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(body !== undefined && { body }),
  });
  return readResponse(res);
}

/** Uploads `bytes` as `name` (POST /api/files?name=…). */
function upload(
  host: TestHost,
  cookie: string,
  name: string,
  bytes: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  return call(host, `/api/files?name=${encodeURIComponent(name)}`, { method: 'POST', cookie, body: bytes, headers });
}

/** The catalog's live files as "name" strings, sorted (what the API must not change when it refuses). */
async function catalogNames(host: TestHost): Promise<string[]> {
  return (await host.quire.host.storage.catalog.listFiles()).map((f) => f.name).sort();
}

/** Locks a file over WOPI, as an editor opening it would. */
async function lockOverWopi(host: TestHost, fileId: string, lock = 'EDITOR-LOCK') {
  const c = await host.client(fileId, await host.token(fileId));
  const res = await c.lock(lock);
  assert.equal(res.status, 200, `LOCK: ${res.text}`);
  return c;
}

/** What a file view's urls must be for `id`. */
const urlsOf = (id: string) => ({
  edit: `/files/${id}/open?action=edit`,
  view: `/files/${id}/open?action=view`,
  download: `/api/files/${id}/content`,
  history: `/files/${id}`,
});

/**
 * Parses Content-Disposition: the plain filename, and filename* (RFC 8187: charset'lang'value-chars, where
 * value-chars are attr-chars or %XX only).
 */
function parseDisposition(header: string | null) {
  assert.ok(header, 'Content-Disposition is present');
  const type = header.split(';')[0]?.trim();
  const plain = /;\s*filename="((?:[^"\\]|\\.)*)"/.exec(header)?.[1];
  const star = /;\s*filename\*=([^;]*)/.exec(header)?.[1]?.trim();
  let extValue: string | undefined;
  let extValid = false;
  if (star !== undefined) {
    const m = /^UTF-8'[^']*'(.*)$/i.exec(star);
    if (m) {
      extValue = m[1] as string;
      extValid = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-Fa-f]{2})*$/.test(extValue);
    }
  }
  return {
    type,
    plain,
    /** The raw filename* value after UTF-8''. */
    extValue,
    /** Whether that value holds only RFC 8187 attr-chars and percent-escapes. */
    extValid,
    decoded: extValue === undefined ? undefined : decodeURIComponent(extValue),
  };
}

for (const kind of storageKinds) {
  describe(`JSON API: sign-in and who is asking [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => closeHost(host));

    it('without a session: the API answers 401 JSON whatever the Accept header; a page sends a browser to /login', async () => {
      const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
      for (const accept of ['application/json', browserAccept, '*/*', '']) {
        for (const [method, path] of [
          ['GET', '/api/files'],
          ['POST', '/api/files/new'],
        ] as const) {
          const res = await call(host, path, { method, headers: { Accept: accept } });
          assert.equal(res.status, 401, `${method} ${path}, Accept ${JSON.stringify(accept)}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.deepEqual(res.json, { error: 'sign in required', login: '/login' });
        }
      }

      const browser = await call(host, '/files/x', { headers: { Accept: browserAccept } });
      assert.equal(browser.status, 303);
      const location = new URL(browser.headers.get('location') ?? '', host.url);
      assert.equal(location.origin, host.url);
      assert.equal(location.pathname, '/login');
      assert.equal(location.searchParams.get('next'), '/files/x');

      for (const path of ['/api/me', '/api/templates']) {
        assert.equal((await call(host, path)).status, 401, path);
      }
    });

    it('without a session: an upload or a delete is refused with 401 and changes nothing', async () => {
      const id = await host.addFile('Kept.docx', 'kept');
      const namesBefore = await catalogNames(host);
      const res = await upload(host, '', 'Sneaky.docx', 'x');
      assert.equal(res.status, 401);
      const del = await call(host, `/api/files/${id}`, { method: 'DELETE' });
      assert.equal(del.status, 401);
      const forged = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie: 'quire_session=not.a.jwt' });
      assert.equal(forged.status, 401);
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('GET /api/me answers the signed-in user: id, name, displayName, isAdmin', async () => {
      const { cookie, user } = await signIn(host, 'ann', { displayName: 'Ann Example' });
      const res = await call(host, '/api/me', { cookie });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { id: user.id, name: 'ann', displayName: 'Ann Example', isAdmin: false });

      const admin = await signIn(host, 'root', { displayName: 'The Admin', isAdmin: true });
      const res2 = await call(host, '/api/me', { cookie: admin.cookie });
      assert.deepEqual(res2.json, { id: admin.user.id, name: 'root', displayName: 'The Admin', isAdmin: true });
      assert.notEqual(admin.user.id, user.id);
    });

    it('a session ends after 12 hours: the API answers 401 again', async () => {
      const { cookie } = await signIn(host, 'ann');
      host.clock.advance(12 * 60 * MINUTE - 1000);
      assert.equal((await call(host, '/api/me', { cookie })).status, 200);
      host.clock.advance(1000);
      const res = await call(host, '/api/me', { cookie });
      assert.equal(res.status, 401, res.text);
      assert.deepEqual(res.json, { error: 'sign in required', login: '/login' });
    });
  });

  describe(`JSON API: upload and download [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    let ann: User;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie, user: ann } = await signIn(host, 'ann', { displayName: 'Ann Example' }));
    });
    after(() => closeHost(host));

    it('POST /api/files?name=Report.docx with several MB: 201 with the file view; the content comes back byte for byte', async () => {
      host.clock.advance(MINUTE);
      const bytes = randomBytes(5 * 1024 * 1024 + 321);
      const res = await upload(host, cookie, 'Report.docx', bytes);
      assert.equal(res.status, 201, res.text);
      const view = res.json;
      assert.match(view.id, /^\S+$/);
      assert.deepEqual(view, {
        id: view.id,
        name: 'Report.docx',
        size: bytes.length,
        version: 1,
        modifiedAt: iso(host.clock.now()),
        modifiedBy: { id: ann.id, name: 'Ann Example' },
        ownerId: ann.id,
        locked: false,
        role: 'owner',
        via: 'owner',
        secureView: false,
        urls: urlsOf(view.id),
      });

      const stored = await host.quire.host.storage.catalog.getFile(view.id);
      assert.equal(stored?.sha256, sha256Hex(bytes));

      const got = await call(host, `/api/files/${view.id}/content`, { cookie });
      assert.equal(got.status, 200);
      assert.equal(got.bytes.length, bytes.length);
      assert.ok(got.bytes.equals(bytes), 'downloaded bytes equal the uploaded ones');
      assert.equal(got.headers.get('content-type'), 'application/octet-stream');
      assert.equal(got.headers.get('content-length'), String(bytes.length));
      assert.equal(got.headers.get('cache-control'), 'no-store');
      const d = parseDisposition(got.headers.get('content-disposition'));
      assert.equal(d.type, 'attachment');
      assert.equal(d.plain, 'Report.docx');
      assert.equal(d.decoded, 'Report.docx');

      // the same file through GET /api/files/{id}
      const one = await call(host, `/api/files/${view.id}`, { cookie });
      assert.deepEqual(one.json, view);
    });

    it('a taken name gets " (1)", " (2)" (case-insensitively): a second Report.docx is "Report (1).docx"; nothing is overwritten', async () => {
      const first = await upload(host, cookie, 'Dup.docx', 'first');
      assert.equal(first.status, 201, first.text);
      assert.equal(first.json.name, 'Dup.docx');
      const second = await upload(host, cookie, 'Dup.docx', 'second');
      assert.equal(second.status, 201, second.text);
      assert.equal(second.json.name, 'Dup (1).docx');
      assert.equal(second.json.version, 1);
      assert.notEqual(second.json.id, first.json.id);
      // names compare without case
      const third = await upload(host, cookie, 'DUP.docx', 'third');
      assert.equal(third.json.name, 'DUP (2).docx');
      assert.equal((await call(host, `/api/files/${first.json.id}/content`, { cookie })).text, 'first');
      assert.equal((await call(host, `/api/files/${second.json.id}/content`, { cookie })).text, 'second');

      const again = await upload(host, cookie, 'Report.docx', 'another report');
      assert.equal(again.status, 201, again.text);
      assert.equal(again.json.name, 'Report (1).docx');
    });

    it("a non-ASCII name: stored as given; the download carries filename*=UTF-8''… percent-encoded and an ASCII fallback", async () => {
      const name = 'Résumé 日本.docx';
      const res = await upload(host, cookie, name, 'cv');
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.name, name);
      const got = await call(host, `/api/files/${res.json.id}/content`, { cookie });
      assert.equal(got.status, 200);
      assert.equal(got.text, 'cv');
      const header = got.headers.get('content-disposition');
      const d = parseDisposition(header);
      assert.equal(d.type, 'attachment');
      assert.equal(d.extValue, 'R%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.docx');
      assert.equal(d.decoded, name);
      assert.equal(d.plain, 'R_sum_ __.docx');
      assert.match(header ?? '', /^[\x20-\x7e]*$/, 'the header itself is plain ASCII');
    });

    it('a name given in decomposed form (NFD) is stored composed (NFC)', async () => {
      const res = await upload(host, cookie, 'Cafe\u0301.docx', 'x');
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.name, 'Caf\u00e9.docx');
    });

    it("Content-Disposition filename* escapes every character RFC 8187 does not allow bare: ( ) '", async () => {
      const name = "Bob's plan (final).docx";
      const res = await upload(host, cookie, name, 'plan');
      assert.equal(res.status, 201, res.text);
      const got = await call(host, `/api/files/${res.json.id}/content`, { cookie });
      const d = parseDisposition(got.headers.get('content-disposition'));
      assert.equal(d.decoded, name);
      assert.equal(d.extValue, 'Bob%27s%20plan%20%28final%29.docx');
      assert.ok(d.extValid, `filename* holds characters outside attr-char: ${d.extValue}`);
      assert.equal(d.plain, name, 'the ASCII fallback keeps printable ASCII as it is');
    });

    it('an upload without ?name= (or with an empty one) is 400 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      for (const path of ['/api/files', '/api/files?name=', '/api/files?other=x.docx']) {
        const res = await call(host, path, { method: 'POST', cookie, body: 'content' });
        assert.equal(res.status, 400, `${path}: ${res.text}`);
        assert.equal(typeof res.json?.error, 'string', path);
      }
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('an upload with an illegal name is 400 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      for (const name of [
        'a/b.docx',
        'a\\b.docx',
        'CON.txt',
        'nul.tar.gz',
        '..',
        '.',
        'Report.docx.',
        ' lead.docx',
        'x\u0001.docx',
      ]) {
        const body = randomBytes(2048);
        const res = await upload(host, cookie, name, body);
        assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.status} ${res.text}`);
        assert.equal(await host.quire.host.storage.blobs.has(sha256Hex(body)), false, 'no bytes were stored');
        assert.match(res.json?.error ?? '', /invalid name/, JSON.stringify(name));
      }
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('an upload cut off midway creates nothing, and the host keeps serving', async () => {
      const namesBefore = await catalogNames(host);
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${host.url}/api/files?name=Cut.docx`, {
          method: 'POST',
          agent: false,
          headers: { Cookie: cookie, Accept: 'application/json', 'Content-Length': '100000' },
        });
        req.on('error', () => resolve());
        req.on('response', (res) => {
          res.resume();
          resolve();
        });
        req.write(randomBytes(30_000), () => {
          setTimeout(() => req.destroy(), 50);
        });
        req.on('close', () => resolve());
      });
      // give the server a moment to notice the reset
      await delay(100);
      assert.deepEqual(await catalogNames(host), namesBefore);
      const ok = await upload(host, cookie, 'After cut.docx', 'fine');
      assert.equal(ok.status, 201, ok.text);
    });

    it('GET /api/files/{id} and …/content for an unknown id are 404', async () => {
      for (const path of ['/api/files/nope', '/api/files/nope/content', '/api/files/nope/versions']) {
        const res = await call(host, path, { cookie });
        assert.equal(res.status, 404, path);
        assert.deepEqual(res.json, { error: 'no such document' }, path);
      }
    });
  });

  describe(`JSON API: upload size limit [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind, maxUploadBytes: 1000 });
      ({ cookie } = await signIn(host));
    });
    after(() => closeHost(host));

    it('a body of exactly maxUploadBytes is accepted', async () => {
      const bytes = randomBytes(1000);
      const res = await upload(host, cookie, 'Exact.docx', bytes);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.size, 1000);
    });

    it('a body larger than maxUploadBytes (Content-Length given) is 413 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      const res = await upload(host, cookie, 'Big.docx', randomBytes(1001));
      assert.equal(res.status, 413, res.text);
      assert.equal(typeof res.json?.error, 'string');
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('a chunked body that grows past maxUploadBytes is 413 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      const res = await rawPost(
        `${host.url}/api/files?name=Chunked.docx`,
        { Cookie: cookie, Accept: 'application/json' },
        pieces(randomBytes(4000), 500),
        { chunked: true, pauseMs: 5 },
      );
      assert.equal(res.status, 413, res.text);
      assert.deepEqual(await catalogNames(host), namesBefore);
      // the host still answers afterwards
      const ok = await upload(host, cookie, 'Small.docx', 'small');
      assert.equal(ok.status, 201, ok.text);
    });
  });

  describe(`JSON API: file list and lock state [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => closeHost(host));

    it('GET /api/files lists the files one may see with who changed it last and whether an editor holds it', async () => {
      // an admin sees every document
      const { cookie, user: ann } = await signIn(host, 'ann', { displayName: 'Ann Example', isAdmin: true });
      const bob = await host.quire.accounts?.create({
        name: 'bob',
        displayName: 'Bob Builder',
        password: 'bob password 1',
      });
      assert.ok(bob);

      const empty = await call(host, '/api/files', { cookie });
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.json, []);

      const t0 = host.clock.now();
      const alpha = (await upload(host, cookie, 'alpha.docx', 'alpha!')).json;
      host.clock.advance(MINUTE);
      const betaId = await host.addFile('Beta.xlsx', 'beta', bob.id);
      host.clock.advance(MINUTE);
      const gammaId = await host.addFile('gamma.pptx', 'gamma', 'not-a-user');

      const lockedAt = host.clock.now();
      await lockOverWopi(host, betaId);

      const res = await call(host, '/api/files', { cookie });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(res.json, [
        {
          id: alpha.id,
          name: 'alpha.docx',
          size: 6,
          version: 1,
          modifiedAt: iso(t0),
          modifiedBy: { id: ann.id, name: 'Ann Example' },
          ownerId: ann.id,
          locked: false,
          role: 'owner',
          via: 'owner',
          secureView: false,
          urls: urlsOf(alpha.id),
          // what it is shared with, for those who manage it (here: an admin)
          sharing: { shares: [], links: 0 },
        },
        {
          id: betaId,
          name: 'Beta.xlsx',
          size: 4,
          version: 1,
          modifiedAt: iso(t0 + MINUTE),
          modifiedBy: { id: bob.id, name: 'Bob Builder' },
          ownerId: bob.id,
          locked: true,
          lockExpiresAt: iso(lockedAt + LOCK_TTL_MS),
          role: 'owner',
          via: 'admin',
          secureView: false,
          urls: urlsOf(betaId),
          sharing: { shares: [], links: 0 },
        },
        {
          id: gammaId,
          name: 'gamma.pptx',
          size: 5,
          version: 1,
          modifiedAt: iso(t0 + 2 * MINUTE),
          // an author who is no user shows as the id
          modifiedBy: { id: 'not-a-user', name: 'not-a-user' },
          ownerId: 'not-a-user',
          locked: false,
          role: 'owner',
          via: 'admin',
          secureView: false,
          urls: urlsOf(gammaId),
          sharing: { shares: [], links: 0 },
        },
      ]);
      const carol = await signIn(host, 'carol');
      assert.deepEqual(
        (await call(host, '/api/files', { cookie: carol.cookie })).json,
        [],
        'others see only their own',
      );
      assert.equal((await call(host, `/api/files/${betaId}`, { cookie: carol.cookie })).status, 404);

      const single = await call(host, `/api/files/${betaId}`, { cookie });
      assert.equal(single.json.locked, true);
      assert.equal(single.json.lockExpiresAt, iso(lockedAt + LOCK_TTL_MS));

      // once the lock has expired, the file shows unlocked
      host.clock.advance(LOCK_TTL_MS + 1);
      const later = await call(host, '/api/files', { cookie });
      const beta = later.json.find((f: { id: string }) => f.id === betaId);
      assert.equal(beta.locked, false);
      assert.equal('lockExpiresAt' in beta, false);
    });
  });

  describe(`JSON API: new documents from templates [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    let ann: User;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie, user: ann } = await signIn(host, 'ann', { displayName: 'Ann Example' }));
    });
    after(() => closeHost(host));

    it('GET /api/templates lists the three kinds with their labels and extensions', async () => {
      const res = await call(host, '/api/templates', { cookie });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, [
        { kind: 'document', label: 'Document', ext: '.docx' },
        { kind: 'spreadsheet', label: 'Spreadsheet', ext: '.xlsx' },
        { kind: 'presentation', label: 'Presentation', ext: '.pptx' },
      ]);
    });

    for (const [templateKind, ext] of [
      ['document', '.docx'],
      ['spreadsheet', '.xlsx'],
      ['presentation', '.pptx'],
    ] as const) {
      it(`POST /api/files/new {"kind":"${templateKind}"}: 201 "New ${templateKind}${ext}" holding the template's bytes`, async () => {
        const expected = await readFile(new URL(`../templates/blank${ext}`, import.meta.url));
        assert.ok(
          expected.length > 0 && expected.subarray(0, 4).equals(Buffer.from('PK\x03\x04')),
          'template is a zip',
        );
        host.clock.advance(MINUTE);
        const res = await call(host, '/api/files/new', { method: 'POST', cookie, json: { kind: templateKind } });
        assert.equal(res.status, 201, res.text);
        const view = res.json;
        assert.deepEqual(view, {
          id: view.id,
          name: `New ${templateKind}${ext}`,
          size: expected.length,
          version: 1,
          modifiedAt: iso(host.clock.now()),
          modifiedBy: { id: ann.id, name: 'Ann Example' },
          ownerId: ann.id,
          locked: false,
          role: 'owner',
          via: 'owner',
          secureView: false,
          urls: urlsOf(view.id),
        });
        const got = await call(host, `/api/files/${view.id}/content`, { cookie });
        assert.equal(got.status, 200);
        assert.ok(got.bytes.equals(expected), 'the new file holds the template bytes');
        const versions = (await call(host, `/api/files/${view.id}/versions`, { cookie })).json;
        assert.equal(versions.length, 1);
        assert.equal(versions[0].source, 'import');
        assert.equal(versions[0].sha256, sha256Hex(expected));

        const second = await call(host, '/api/files/new', { method: 'POST', cookie, json: { kind: templateKind } });
        assert.equal(second.status, 201, second.text);
        assert.equal(second.json.name, `New ${templateKind} (1)${ext}`);
        assert.notEqual(second.json.id, view.id);
      });
    }

    it('POST /api/files/new with a name: "Plan" → "Plan.xlsx"; an extension already given is not doubled', async () => {
      const plan = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'spreadsheet', name: 'Plan' },
      });
      assert.equal(plan.status, 201, plan.text);
      assert.equal(plan.json.name, 'Plan.xlsx');
      const expected = await readFile(new URL('../templates/blank.xlsx', import.meta.url));
      assert.ok((await call(host, `/api/files/${plan.json.id}/content`, { cookie })).bytes.equals(expected));

      const withExt = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'spreadsheet', name: 'Budget.xlsx' },
      });
      assert.equal(withExt.json.name, 'Budget.xlsx');
      const again = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'spreadsheet', name: 'Plan' },
      });
      assert.equal(again.json.name, 'Plan (1).xlsx');
      const spaced = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'document', name: '  Minutes  ' },
      });
      assert.equal(spaced.json.name, 'Minutes.docx');
      const blank = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'presentation', name: '   ' },
      });
      assert.equal(blank.status, 201, blank.text);
      // earlier tests made "New presentation.pptx" and "New presentation (1).pptx"
      assert.match(blank.json.name, /^New presentation \(\d+\)\.pptx$/, 'a blank name falls back to the default');
    });

    it('POST /api/files/new with an illegal name is 400 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      for (const name of ['a/b', 'a\\b', 'CON', 'x|y', 'tab\there']) {
        const res = await call(host, '/api/files/new', { method: 'POST', cookie, json: { kind: 'document', name } });
        assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
        assert.match(res.json?.error ?? '', /invalid name/, JSON.stringify(name));
      }
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('POST /api/files/new refuses an unknown or missing kind with 400 and creates nothing', async () => {
      const namesBefore = await catalogNames(host);
      for (const body of [{ kind: 'drawing' }, {}, { kind: 7 }, { kind: 'Document' }, { name: 'x' }]) {
        const res = await call(host, '/api/files/new', { method: 'POST', cookie, json: body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.match(res.json?.error ?? '', /kind/, JSON.stringify(body));
      }
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('POST /api/files/new needs application/json (415) holding a JSON object (400)', async () => {
      const namesBefore = await catalogNames(host);
      const body = JSON.stringify({ kind: 'document' });
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await call(host, '/api/files/new', {
          method: 'POST',
          cookie,
          body,
          headers: { 'Content-Type': type },
        });
        assert.equal(res.status, 415, `${type}: ${res.text}`);
      }
      const untyped = await call(host, '/api/files/new', { method: 'POST', cookie, body: Buffer.from(body) });
      assert.equal(untyped.status, 415, untyped.text);

      for (const raw of ['{"kind": "document"', 'not json', '', '["document"]', 'null', '"document"']) {
        const res = await call(host, '/api/files/new', {
          method: 'POST',
          cookie,
          body: raw,
          headers: { 'Content-Type': 'application/json' },
        });
        assert.equal(res.status, 400, `${JSON.stringify(raw)}: ${res.text}`);
        assert.deepEqual(res.json, { error: 'body must be a JSON object' });
      }
      assert.deepEqual(await catalogNames(host), namesBefore);
    });

    it('POST /api/files/new refuses a JSON body over 64 KiB with 413', async () => {
      const namesBefore = await catalogNames(host);
      const res = await call(host, '/api/files/new', {
        method: 'POST',
        cookie,
        json: { kind: 'document', padding: 'x'.repeat(70 * 1024) },
      });
      assert.equal(res.status, 413, res.text);
      assert.deepEqual(await catalogNames(host), namesBefore);
    });
  });

  describe(`JSON API: rename [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie } = await signIn(host));
    });
    after(() => closeHost(host));

    const rename = (id: string, body: unknown) =>
      call(host, `/api/files/${encodeURIComponent(id)}/rename`, { method: 'POST', cookie, json: body });

    it('a name without extension keeps the current one: "Summary" → "Summary.docx"; content and version unchanged', async () => {
      const id = (await upload(host, cookie, 'Draft.docx', 'the draft')).json.id;
      const res = await rename(id, { name: 'Summary' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.id, id);
      assert.equal(res.json.name, 'Summary.docx');
      assert.equal(res.json.version, 1);
      assert.deepEqual(res.json.urls, urlsOf(id));
      const listed = (await call(host, '/api/files', { cookie })).json.find((f: { id: string }) => f.id === id);
      assert.equal(listed.name, 'Summary.docx');
      const got = await call(host, `/api/files/${id}/content`, { cookie });
      assert.equal(got.text, 'the draft');
      assert.equal(parseDisposition(got.headers.get('content-disposition')).plain, 'Summary.docx');
      assert.equal((await host.quire.host.storage.catalog.listVersions(id)).length, 1, 'a rename adds no version');
    });

    it('a name with an extension takes it: "Summary.txt"', async () => {
      const id = (await upload(host, cookie, 'Notes.docx', 'notes')).json.id;
      const res = await rename(id, { name: 'Summary.txt' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.name, 'Summary.txt');
    });

    it('a taken name becomes "name (1).ext"; renaming a file to its own name keeps it', async () => {
      await upload(host, cookie, 'Taken.docx', 'one');
      const id = (await upload(host, cookie, 'Other.docx', 'two')).json.id;
      const res = await rename(id, { name: 'Taken' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.name, 'Taken (1).docx');
      const same = await rename(id, { name: 'Taken (1).docx' });
      assert.equal(same.status, 200, same.text);
      assert.equal(same.json.name, 'Taken (1).docx');
      const caseOnly = await rename(id, { name: 'TAKEN (1)' });
      assert.equal(caseOnly.json.name, 'TAKEN (1).docx', 'a change of case only is its own name, not a clash');
    });

    it('an illegal or empty name is 400 and the name is unchanged', async () => {
      const id = (await upload(host, cookie, 'Legal.docx', 'x')).json.id;
      for (const name of ['a/b', 'a/b.docx', 'CON', 'CON.txt', '..', 'x:y', 'trailing.']) {
        const res = await rename(id, { name });
        assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
        assert.match(res.json?.error ?? '', /invalid name/, JSON.stringify(name));
      }
      for (const body of [{ name: '' }, { name: '   ' }, {}, { name: 5 }]) {
        const res = await rename(id, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      }
      assert.equal((await host.quire.host.storage.catalog.getFile(id))?.name, 'Legal.docx');
    });

    it('while an editor holds the lock: 409 and the name is unchanged', async () => {
      const id = (await upload(host, cookie, 'Busy.docx', 'x')).json.id;
      const c = await lockOverWopi(host, id, 'L1');
      const res = await rename(id, { name: 'Moved' });
      assert.equal(res.status, 409, res.text);
      assert.equal(typeof res.json?.error, 'string');
      assert.equal((await host.quire.host.storage.catalog.getFile(id))?.name, 'Busy.docx');
      // once the editor lets go, the rename goes through
      assert.equal((await c.unlock('L1')).status, 200);
      const ok = await rename(id, { name: 'Moved' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.name, 'Moved.docx');
    });

    it('an unknown id is 404; a body that is not JSON is 415', async () => {
      const res = await rename('does-not-exist', { name: 'X' });
      assert.equal(res.status, 404, res.text);
      assert.deepEqual(res.json, { error: 'no such document' });
      const id = (await upload(host, cookie, 'Typed.docx', 'x')).json.id;
      const wrongType = await call(host, `/api/files/${id}/rename`, {
        method: 'POST',
        cookie,
        body: 'name=X',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(wrongType.status, 415, wrongType.text);
      assert.equal((await host.quire.host.storage.catalog.getFile(id))?.name, 'Typed.docx');
    });
  });

  describe(`JSON API: delete [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie } = await signIn(host));
    });
    after(() => closeHost(host));

    const listIds = async () => (await call(host, '/api/files', { cookie })).json.map((f: { id: string }) => f.id);

    it('DELETE /api/files/{id}: 204, gone from the list, its URLs 404, WOPI CheckFileInfo 404; the name is free again', async () => {
      const id = (await upload(host, cookie, 'Gone.docx', 'bye')).json.id;
      const keep = (await upload(host, cookie, 'Stays.docx', 'hi')).json.id;
      const c = await host.client(id, await host.token(id));
      assert.equal((await c.checkFileInfo()).status, 200);

      const res = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie });
      assert.equal(res.status, 204, res.text);
      assert.equal(res.bytes.length, 0);
      assert.deepEqual(await listIds(), [keep]);
      assert.equal((await call(host, `/api/files/${id}`, { cookie })).status, 404);
      assert.equal((await call(host, `/api/files/${id}/content`, { cookie })).status, 404);
      assert.equal((await call(host, `/api/files/${id}/versions`, { cookie })).status, 404);
      assert.equal((await c.checkFileInfo()).status, 404);
      assert.equal((await c.getFile()).status, 404);

      const again = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie });
      assert.equal(again.status, 404, 'deleting twice');
      // a deleted file's kept versions can neither be read nor restored through the API
      assert.equal((await call(host, `/api/files/${id}/versions/1/content`, { cookie })).status, 404);
      const restore = await call(host, `/api/files/${id}/versions/1/restore`, { method: 'POST', cookie });
      assert.equal(restore.status, 404, restore.text);
      assert.equal(await host.quire.host.storage.catalog.getFile(id), null, 'restoring does not bring it back');

      const reuse = await upload(host, cookie, 'Gone.docx', 'new');
      assert.equal(reuse.json.name, 'Gone.docx', 'a deleted file no longer holds its name');
    });

    it('while an editor holds the lock: 409 and the file stays', async () => {
      const id = (await upload(host, cookie, 'Open.docx', 'in use')).json.id;
      const c = await lockOverWopi(host, id, 'L');
      const res = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie });
      assert.equal(res.status, 409, res.text);
      assert.ok((await listIds()).includes(id));
      assert.equal((await c.checkFileInfo()).status, 200);
      assert.equal((await call(host, `/api/files/${id}/content`, { cookie })).text, 'in use');
      const lock = await c.getLock();
      assert.equal(lock.headers.get('x-wopi-lock'), 'L', 'the editor keeps its lock');
    });

    it('an unknown id is 404', async () => {
      const res = await call(host, '/api/files/unknown-id', { method: 'DELETE', cookie });
      assert.equal(res.status, 404);
      assert.deepEqual(res.json, { error: 'no such document' });
    });
  });

  describe(`JSON API: versions and restore [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    let ann: User;
    let bob: User;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie, user: ann } = await signIn(host, 'ann', { displayName: 'Ann Example' }));
      const created = await host.quire.accounts?.create({
        name: 'bob',
        displayName: 'Bob Builder',
        password: 'bob password 1',
      });
      assert.ok(created);
      bob = created;
    });
    after(() => closeHost(host));

    /** Uploads `original` as ann, then bob saves `edited` over WOPI (lock + autosave PutFile). */
    async function editedFile(name: string, original: Buffer, edited: Buffer) {
      const t1 = host.clock.now();
      const id = (await upload(host, cookie, name, original)).json.id as string;
      host.clock.advance(5 * MINUTE);
      const c = await host.client(id, await host.token(id, { userId: bob.id, userName: 'Bob Builder' }));
      assert.equal((await c.lock('BOB-LOCK')).status, 200);
      const t2 = host.clock.now();
      const put = await c.putFile(edited, { 'X-WOPI-Lock': 'BOB-LOCK', 'X-LOOL-WOPI-IsAutosave': 'true' });
      assert.equal(put.status, 200, put.text);
      return { id, c, t1, t2 };
    }

    it('GET …/versions lists newest first with author, source, size, sha256 and save flags', async () => {
      const original = randomBytes(70_000);
      const edited = randomBytes(50_000);
      const { id, t1, t2 } = await editedFile('History.docx', original, edited);
      const res = await call(host, `/api/files/${id}/versions`, { cookie });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, [
        {
          version: 2,
          current: true,
          size: edited.length,
          sha256: sha256Hex(edited),
          createdAt: iso(t2),
          author: { id: bob.id, name: 'Bob Builder' },
          source: 'put',
          autosave: true,
          download: `/api/files/${id}/versions/2/content`,
        },
        {
          version: 1,
          current: false,
          size: original.length,
          sha256: sha256Hex(original),
          createdAt: iso(t1),
          author: { id: ann.id, name: 'Ann Example' },
          source: 'import',
          download: `/api/files/${id}/versions/1/content`,
        },
      ]);
      const view = (await call(host, `/api/files/${id}`, { cookie })).json;
      assert.equal(view.version, 2);
      assert.deepEqual(view.modifiedBy, { id: bob.id, name: 'Bob Builder' });
      assert.equal(view.locked, true);
    });

    it('GET …/versions/N/content returns that version\'s bytes with "name (version N).ext"', async () => {
      const original = randomBytes(40_000);
      const edited = randomBytes(30_000);
      const { id } = await editedFile('Bytes.docx', original, edited);
      const v1 = await call(host, `/api/files/${id}/versions/1/content`, { cookie });
      assert.equal(v1.status, 200);
      assert.ok(v1.bytes.equals(original), 'version 1 holds the original bytes');
      assert.equal(v1.headers.get('content-length'), String(original.length));
      assert.equal(v1.headers.get('content-type'), 'application/octet-stream');
      const d = parseDisposition(v1.headers.get('content-disposition'));
      assert.equal(d.plain, 'Bytes (version 1).docx');
      assert.equal(d.decoded, 'Bytes (version 1).docx');
      const v2 = await call(host, `/api/files/${id}/versions/2/content`, { cookie });
      assert.ok(v2.bytes.equals(edited), 'version 2 holds the saved bytes');
      assert.ok((await call(host, `/api/files/${id}/content`, { cookie })).bytes.equals(edited));
    });

    it("POST …/versions/1/restore: refused with 409 while locked; afterwards a new version 3 with version 1's bytes", async () => {
      const original = randomBytes(60_000);
      const edited = randomBytes(20_000);
      const { id, c } = await editedFile('Restore.docx', original, edited);

      const locked = await call(host, `/api/files/${id}/versions/1/restore`, { method: 'POST', cookie });
      assert.equal(locked.status, 409, locked.text);
      assert.equal((await host.quire.host.storage.catalog.listVersions(id)).length, 2, 'no version added');
      assert.ok((await call(host, `/api/files/${id}/content`, { cookie })).bytes.equals(edited));

      assert.equal((await c.unlock('BOB-LOCK')).status, 200);
      host.clock.advance(MINUTE);
      const t3 = host.clock.now();
      const res = await call(host, `/api/files/${id}/versions/1/restore`, { method: 'POST', cookie });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, {
        id,
        name: 'Restore.docx',
        size: original.length,
        version: 3,
        modifiedAt: iso(t3),
        modifiedBy: { id: ann.id, name: 'Ann Example' },
        ownerId: ann.id,
        locked: false,
        role: 'owner',
        via: 'owner',
        secureView: false,
        urls: urlsOf(id),
      });

      const versions = (await call(host, `/api/files/${id}/versions`, { cookie })).json;
      assert.deepEqual(
        versions.map((v: { version: number; current: boolean; source: string }) => [v.version, v.current, v.source]),
        [
          [3, true, 'restore'],
          [2, false, 'put'],
          [1, false, 'import'],
        ],
      );
      assert.deepEqual(versions[0], {
        version: 3,
        current: true,
        size: original.length,
        sha256: sha256Hex(original),
        createdAt: iso(t3),
        author: { id: ann.id, name: 'Ann Example' },
        source: 'restore',
        download: `/api/files/${id}/versions/3/content`,
      });
      assert.ok((await call(host, `/api/files/${id}/content`, { cookie })).bytes.equals(original));
      assert.ok((await c.content()).equals(original), 'editors read the restored bytes over WOPI');
      assert.ok((await call(host, `/api/files/${id}/versions/2/content`, { cookie })).bytes.equals(edited));
    });

    it('a version that does not exist is 404; one that is no number is 400', async () => {
      const { id, c } = await editedFile('Numbers.docx', Buffer.from('one'), Buffer.from('two'));
      assert.equal((await c.unlock('BOB-LOCK')).status, 200);
      for (const path of [`/api/files/${id}/versions/99/content`, `/api/files/${id}/versions/3/content`]) {
        const res = await call(host, path, { cookie });
        assert.equal(res.status, 404, path);
        assert.deepEqual(res.json, { error: 'no such version' }, path);
      }
      const restore99 = await call(host, `/api/files/${id}/versions/99/restore`, { method: 'POST', cookie });
      assert.equal(restore99.status, 404, restore99.text);
      for (const v of ['abc', '0', '-1', '1.5', '1e2', 'one']) {
        const got = await call(host, `/api/files/${id}/versions/${v}/content`, { cookie });
        assert.equal(got.status, 400, `content of version ${v}: ${got.text}`);
        const restored = await call(host, `/api/files/${id}/versions/${v}/restore`, { method: 'POST', cookie });
        assert.equal(restored.status, 400, `restore of version ${v}: ${restored.text}`);
      }
      assert.equal((await host.quire.host.storage.catalog.listVersions(id)).length, 2, 'nothing was restored');
      const unknownFile = await call(host, '/api/files/nope/versions/1/restore', { method: 'POST', cookie });
      assert.equal(unknownFile.status, 404, unknownFile.text);
    });
  });

  describe(`JSON API: cross-site requests [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie } = await signIn(host));
    });
    after(() => closeHost(host));

    it("a POST or DELETE with another site's Origin is 403 and changes nothing", async () => {
      const id = (await upload(host, cookie, 'Target.docx', 'v1')).json.id;
      const c = await host.client(id, await host.token(id));
      assert.equal((await c.lock('L')).status, 200);
      assert.equal((await c.putFile('v2', { 'X-WOPI-Lock': 'L' })).status, 200);
      assert.equal((await c.unlock('L')).status, 200);
      const namesBefore = await catalogNames(host);

      const crossSite: Array<Record<string, string>> = [
        { Origin: EVIL_ORIGIN },
        { Origin: 'null' },
        { 'Sec-Fetch-Site': 'cross-site' },
      ];
      for (const cross of crossSite) {
        const label = JSON.stringify(cross);
        const planted = randomBytes(2048);
        const up = await upload(host, cookie, 'Planted.docx', planted, cross);
        assert.equal(up.status, 403, `upload ${label}: ${up.text}`);
        assert.equal(await host.quire.host.storage.blobs.has(sha256Hex(planted)), false, 'no bytes were stored');
        const created = await call(host, '/api/files/new', {
          method: 'POST',
          cookie,
          json: { kind: 'document' },
          headers: cross,
        });
        assert.equal(created.status, 403, `new ${label}: ${created.text}`);
        const renamed = await call(host, `/api/files/${id}/rename`, {
          method: 'POST',
          cookie,
          json: { name: 'Hijacked' },
          headers: cross,
        });
        assert.equal(renamed.status, 403, `rename ${label}: ${renamed.text}`);
        const restored = await call(host, `/api/files/${id}/versions/1/restore`, {
          method: 'POST',
          cookie,
          headers: cross,
        });
        assert.equal(restored.status, 403, `restore ${label}: ${restored.text}`);
        const deleted = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie, headers: cross });
        assert.equal(deleted.status, 403, `delete ${label}: ${deleted.text}`);
        assert.deepEqual(deleted.json, { error: 'cross-site request refused' });
      }

      assert.deepEqual(await catalogNames(host), namesBefore);
      const file = await host.quire.host.storage.catalog.getFile(id);
      assert.equal(file?.name, 'Target.docx');
      assert.equal(file?.version, 2);
      assert.equal((await c.content()).toString(), 'v2');
    });

    it("the host's own Origin (and same-origin Sec-Fetch-Site) is allowed", async () => {
      const own = { Origin: host.url, 'Sec-Fetch-Site': 'same-origin' };
      const up = await upload(host, cookie, 'Mine.docx', 'v1', own);
      assert.equal(up.status, 201, up.text);
      const id = up.json.id;
      const renamed = await call(host, `/api/files/${id}/rename`, {
        method: 'POST',
        cookie,
        json: { name: 'Mine2' },
        headers: own,
      });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.json.name, 'Mine2.docx');
      const restored = await call(host, `/api/files/${id}/versions/1/restore`, {
        method: 'POST',
        cookie,
        headers: own,
      });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.json.version, 2);
      const deleted = await call(host, `/api/files/${id}`, { method: 'DELETE', cookie, headers: own });
      assert.equal(deleted.status, 204, deleted.text);
      assert.equal(await host.quire.host.storage.catalog.getFile(id), null);
    });

    it('reads (GET) are answered whatever the Origin', async () => {
      const res = await call(host, '/api/files', { cookie, headers: { Origin: EVIL_ORIGIN } });
      assert.equal(res.status, 200);
    });
  });
}
