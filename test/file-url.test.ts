/**
 * CheckFileInfo's FileUrl (--file-url): a presigned GET of the version's blob in a real S3 bucket (the test endpoint
 * of test/helpers/s3.ts, Ceph RGW in CI), fetched here the way an editor does, with no token and no header. What
 * each editor does with FileUrl, and so which flavours get one, is in src/wopi/file-info/file-url.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCheck } from '../src/check/index.ts';
import { fileUrlOptions, s3Options, serveSettings, UsageError } from '../src/cli/options.ts';
import { ManualClock } from '../src/core/clock.ts';
import type { Flavour } from '../src/discovery/flavour.ts';
import { Quire, type QuireOptions } from '../src/quire.ts';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { readResponse, WopiClient } from './helpers/host.ts';
import { emptyS3Prefix, needsS3, openTestS3Blobs, testS3Options } from './helpers/s3.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const prefixOf = () => `quire-test-fileurl-${randomBytes(8).toString('hex')}/`;

interface Served {
  quire: Quire;
  url: string;
  /** A file with these bytes, and a client with a token for it (secure view when `watermark` is given). */
  file(bytes: Buffer, opts?: { watermark?: string }): Promise<WopiClient>;
  close(): Promise<void>;
}

/** Quire over SQLite + blobs in the test bucket under a prefix of its own, with a clock the test holds. */
async function serve(options: Partial<QuireOptions> = {}, flavour: Flavour = 'onlyoffice'): Promise<Served> {
  const dataDir = await mkdtemp(join(tmpdir(), 'quire-fileurl-'));
  const prefix = prefixOf();
  const quire = await Quire.create({
    dataDir,
    // a clock far from the real one: a FileUrl is signed with the system time, which is what the bucket checks
    clock: new ManualClock(Date.UTC(2026, 0, 1, 12)),
    s3: testS3Options(prefix),
    editor: { flavour },
    logger: false,
    ...options,
  });
  const url = await quire.listen(0, '127.0.0.1');
  return {
    quire,
    url,
    async file(bytes, opts = {}) {
      const file = await quire.addFile({ source: Readable.from([bytes]), name: 'doc.docx', ownerId: 'owner' });
      const minted = await quire.host.tokens.mint({
        fileId: file.id,
        userId: 'alice',
        userName: 'Alice',
        role: 'editor',
        permissions: { write: true, rename: true, writeRelative: true, delete: false },
        ...(opts.watermark !== undefined && { watermark: opts.watermark }),
      });
      return new WopiClient(url, file.id, minted.access_token);
    },
    async close() {
      await quire.close();
      await emptyS3Prefix(prefix);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** CheckFileInfo's FileUrl, or undefined when it has none. */
async function fileUrlOf(c: WopiClient): Promise<string | undefined> {
  const info = await c.checkFileInfo();
  assert.equal(info.status, 200, info.text);
  assert.equal(info.json.FileUrl === undefined || typeof info.json.FileUrl === 'string', true);
  return info.json.FileUrl;
}

/** GET as an editor fetches FileUrl: the URL exactly as given, nothing added. */
const plainGet = async (url: string, headers: Record<string, string> = {}) =>
  readResponse(await fetch(url, { headers }));

describe('FileUrl: presigned GETs of the blob in S3', needsS3, () => {
  let on: Served;
  before(async () => {
    on = await serve({ fileUrl: true });
  });
  after(async () => on?.close());

  it('is off by default: no FileUrl, even on S3', async () => {
    const off = await serve();
    try {
      const c = await off.file(Buffer.from('plain'));
      assert.equal(await fileUrlOf(c), undefined);
      assert.equal((await c.getFile()).text, 'plain');
    } finally {
      await off.close();
    }
  });

  it('on: a plain GET of the FileUrl, with no token and no header, gives exactly the version’s bytes', async () => {
    const bytes = randomBytes(300 * 1024);
    const c = await on.file(bytes);
    const fileUrl = await fileUrlOf(c);
    assert.ok(fileUrl, 'CheckFileInfo carries a FileUrl');
    assert.ok(!fileUrl.includes(c.token), 'the access token is not in it');
    assert.ok(fileUrl.startsWith(`${testS3Options('').endpoint}/`), `the bucket's address: ${fileUrl}`);
    assert.match(fileUrl, new RegExp(`/blobs/${sha256(bytes)}\\?`), 'the content-addressed blob');
    assert.match(fileUrl, /X-Amz-Expires=300(&|$)/, 'valid five minutes by default');
    const got = await plainGet(fileUrl);
    assert.equal(got.status, 200, got.text);
    assert.equal(sha256(got.bytes), sha256(bytes));
    assert.equal(got.headers.get('cache-control'), 'private, no-store', 'no cache keeps the bytes past the URL');
    // GetFile still works beside it
    assert.equal(sha256((await c.getFile()).bytes), sha256(bytes));
  });

  it('after a PutFile the new FileUrl gives the new bytes, and the old one still the old (immutable)', async () => {
    const first = Buffer.from('version one');
    const c = await on.file(first);
    const oldUrl = await fileUrlOf(c);
    assert.ok(oldUrl);
    assert.equal((await c.lock('L')).status, 200);
    const second = Buffer.from('version two, longer');
    assert.equal((await c.putFile(second, { 'X-WOPI-Lock': 'L' })).status, 200);
    const info = await c.checkFileInfo();
    assert.equal(info.json.Version, '2');
    const newUrl = info.json.FileUrl as string;
    assert.notEqual(newUrl, oldUrl);
    assert.equal((await plainGet(newUrl)).text, 'version two, longer');
    assert.equal((await plainGet(oldUrl)).text, 'version one', 'the old URL still names the old version’s bytes');
  });

  it('`quire check` follows it: its FileUrl rule passes (and every other rule), the URL kept out of the report', async () => {
    const c = await on.file(Buffer.from('checked through FileUrl'));
    const report = await runCheck({ wopiSrc: `${on.url}/wopi/files/${c.fileId}`, token: c.token, timeoutMs: 10_000 });
    const rule = report.results.find((r) => r.id === 'checkfileinfo.file-url');
    assert.equal(rule?.verdict, 'PASS', JSON.stringify(rule));
    const failed = report.results.filter((r) => r.verdict === 'FAIL');
    assert.deepEqual(failed, [], JSON.stringify(failed));
    assert.ok(
      report.secrets.some((s) => s.includes('X-Amz-Signature')),
      'the presigned URL is scrubbed like a token',
    );
  });

  it('a remembered CheckFileInfo answer still gets a freshly signed FileUrl', async () => {
    const c = await on.file(Buffer.from('asked twice'));
    const first = await fileUrlOf(c);
    await sleep(1100); // the signature's X-Amz-Date has seconds
    const second = await fileUrlOf(c);
    assert.ok(first && second);
    assert.notEqual(second, first, 'signed again, not the remembered URL');
    assert.equal((await plainGet(second)).text, 'asked twice');
  });

  it('a tampered URL is refused by the bucket (403)', async () => {
    const other = await on.file(Buffer.from('someone else’s bytes'));
    const otherKey = /\/blobs\/([0-9a-f]{64})\?/.exec((await fileUrlOf(other)) ?? '')?.[1];
    const c = await on.file(Buffer.from('mine'));
    const url = (await fileUrlOf(c)) ?? '';
    const key = /\/blobs\/([0-9a-f]{64})\?/.exec(url)?.[1];
    assert.ok(key && otherKey);
    const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(url)?.[1] ?? '';
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    for (const [what, tampered] of [
      ['another blob', url.replace(key, otherKey)],
      ['a longer life', url.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000')],
      ['another signature', url.replace(sig, flipped)],
      ['a parameter added (what Microsoft forbids clients)', `${url}&access_token=x`],
    ]) {
      const res = await plainGet(tampered as string);
      assert.equal(res.status, 403, `${what}: ${res.status} ${res.text}`);
    }
    assert.equal((await plainGet(url)).text, 'mine', 'the URL as given still works');
  });

  it('why Collabora gets none: it sends its Authorization: Bearer header, which the bucket refuses', async () => {
    const c = await on.file(Buffer.from('bearer'));
    const url = (await fileUrlOf(c)) ?? '';
    const res = await plainGet(url, { Authorization: `Bearer ${c.token}` });
    assert.ok(res.status === 400 || res.status === 403, `refused: ${res.status} ${res.text}`);
    // a header that is not authorization is fine (ONLYOFFICE sends X-WOPI-MaxExpectedSize)
    assert.equal((await plainGet(url, { 'X-WOPI-MaxExpectedSize': '104857600' })).text, 'bearer');
  });

  it('expires: a FileUrl with a 1 s life is refused after it', async () => {
    const short = await serve({ fileUrl: true, fileUrlTtlSeconds: 1 });
    try {
      const c = await short.file(Buffer.from('brief'));
      const url = (await fileUrlOf(c)) ?? '';
      assert.match(url, /X-Amz-Expires=1(&|$)/);
      assert.equal((await plainGet(url)).text, 'brief', 'valid at once');
      await sleep(2500);
      const late = await plainGet(url);
      assert.equal(late.status, 403, `expired: ${late.status} ${late.text}`);
      assert.equal((await c.getFile()).text, 'brief', 'GetFile, the fallback, still works');
      assert.equal((await plainGet((await fileUrlOf(c)) ?? '')).text, 'brief', 'a new CheckFileInfo, a new URL');
    } finally {
      await short.close();
    }
  });

  it('per flavour: ONLYOFFICE and Microsoft get one; Collabora and unknown clients do not', async () => {
    const expected: Record<Flavour, boolean> = { onlyoffice: true, microsoft: true, collabora: false, generic: false };
    for (const [flavour, gets] of Object.entries(expected) as Array<[Flavour, boolean]>) {
      const served = flavour === 'onlyoffice' ? on : await serve({ fileUrl: true }, flavour);
      try {
        const c = await served.file(Buffer.from(`for ${flavour}`));
        const url = await fileUrlOf(c);
        assert.equal(url !== undefined, gets, `${flavour}: ${url}`);
        if (url) assert.equal((await plainGet(url)).text, `for ${flavour}`);
        assert.equal((await c.getFile()).text, `for ${flavour}`);
      } finally {
        if (served !== on) await served.close();
      }
    }
  });

  it('secure view gets no FileUrl: its bytes go through GetFile only', async () => {
    for (const watermark of ['Confidential', '']) {
      const c = await on.file(Buffer.from('shown, not handed over'), { watermark });
      assert.equal(await fileUrlOf(c), undefined, `watermark ${JSON.stringify(watermark)}`);
      assert.equal((await c.getFile()).text, 'shown, not handed over');
    }
  });

  it('--s3-public-endpoint: the URL is signed for the address editors use, and works there', async (t) => {
    const endpoint = testS3Options('').endpoint ?? '';
    if (!endpoint.includes('127.0.0.1')) return t.skip(`needs an endpoint at 127.0.0.1 to reach as localhost`);
    const publicEndpoint = endpoint.replace('127.0.0.1', 'localhost');
    const prefix = prefixOf();
    const pub = await serve({ fileUrl: true, s3: { ...testS3Options(prefix), publicEndpoint } });
    try {
      const c = await pub.file(Buffer.from('via the public name'));
      const url = (await fileUrlOf(c)) ?? '';
      assert.ok(url.startsWith(`${publicEndpoint}/`), url);
      assert.equal((await plainGet(url)).text, 'via the public name');
      // the host is signed: the same URL sent to the other address is refused
      const moved = await plainGet(url.replace(publicEndpoint, endpoint));
      assert.equal(moved.status, 403, moved.text);
      assert.equal((await c.getFile()).text, 'via the public name', 'Quire itself still uses --s3-endpoint');
    } finally {
      await pub.close();
      await emptyS3Prefix(prefix);
    }
  });

  it('a storage given whole: FileUrl comes from its blob store when it can presign', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-fileurl-'));
    const prefix = prefixOf();
    const blobs = openTestS3Blobs(prefix);
    const storage = await openSqliteStorage(dataDir, { blobs });
    const quire = await Quire.create({
      dataDir,
      storage,
      fileUrl: true,
      logger: false,
      editor: { flavour: 'microsoft' },
    });
    try {
      const url = await quire.listen(0, '127.0.0.1');
      const file = await quire.addFile({ source: Readable.from([Buffer.from('given')]), name: 'g.docx', ownerId: 'o' });
      const c = new WopiClient(url, file.id, (await quire.mintToken({ fileId: file.id, userId: 'o' })).access_token);
      assert.equal((await plainGet((await fileUrlOf(c)) ?? '')).text, 'given');
    } finally {
      await quire.close();
      blobs.close();
      await emptyS3Prefix(prefix);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('FileUrl without a store that can presign', () => {
  it('the file blob store: Quire refuses to start, saying why', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-fileurl-'));
    try {
      await assert.rejects(Quire.create({ dataDir, fileUrl: true, logger: false }), /fileUrl needs blobs in an S3/);
      const storage = await openSqliteStorage(dataDir);
      try {
        await assert.rejects(Quire.create({ dataDir, storage, fileUrl: true, logger: false }), /fileUrl needs/);
      } finally {
        await storage.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a TTL outside what a presigned URL allows is refused (before the bucket is opened)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-fileurl-'));
    try {
      for (const ttl of [0, 1.5, 8 * 24 * 3600]) {
        await assert.rejects(
          Quire.create({ dataDir, fileUrl: true, fileUrlTtlSeconds: ttl, s3: { bucket: 'b' }, logger: false }),
          /fileUrlTtlSeconds must be/,
        );
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the command line: --file-url or QUIRE_FILE_URL=1 needs a bucket (a usage error without one)', () => {
    assert.deepEqual(fileUrlOptions(false, undefined), {});
    assert.throws(() => fileUrlOptions(true, undefined), UsageError);
    assert.throws(() => serveSettings(['--file-url'], {}), /--file-url needs --s3-bucket/);
    assert.throws(() => serveSettings([], { QUIRE_FILE_URL: '1' }), /--file-url needs --s3-bucket/);
    assert.equal(serveSettings(['--file-url', '--s3-bucket', 'b'], {}).options.fileUrl, true);
    assert.equal(serveSettings([], { QUIRE_FILE_URL: '1', QUIRE_S3_BUCKET: 'b' }).options.fileUrl, true);
    assert.equal(serveSettings(['--s3-bucket', 'b'], {}).options.fileUrl, undefined, 'off by default');
  });

  it('the command line: --s3-public-endpoint / QUIRE_S3_PUBLIC_ENDPOINT', () => {
    assert.deepEqual(s3Options({ 's3-bucket': 'b', 's3-public-endpoint': 'https://s3.example.com' }, {}), {
      s3: { bucket: 'b', publicEndpoint: 'https://s3.example.com' },
    });
    assert.equal(
      s3Options({}, { QUIRE_S3_BUCKET: 'b', QUIRE_S3_PUBLIC_ENDPOINT: 'http://s3:9000' }).s3?.publicEndpoint,
      'http://s3:9000',
    );
    assert.throws(() => s3Options({ 's3-public-endpoint': 'https://x' }, {}), /need --s3-bucket/);
    assert.throws(() => s3Options({ 's3-bucket': 'b', 's3-public-endpoint': 's3.example.com' }, {}), UsageError);
  });
});
