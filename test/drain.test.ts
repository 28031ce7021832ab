import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createQuire } from '../src/embed.ts';
import { WopiClient } from './helpers/host.ts';
import { partFiles, runQuireJson, ServeProcess, waitForNewPart, withTimeout } from './helpers/process-helpers.ts';
import { SlowPut } from './helpers/slow-put.ts';

/**
 * SIGTERM (or SIGINT) drains `quire serve`: /readyz answers 503 and no new connection is accepted, requests in
 * flight (a PutFile's body) may finish within --drain-timeout, what is still running then is cut, and the process
 * exits 0; a second signal exits at once. Real child processes, SQLite and blobs in a temp data dir.
 */

const LOCK = 'drain-suite-lock';
const MB = 1024 * 1024;

/** The error a fresh TCP connection to `port` ends with (null when it connects). */
function connectError(port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err) => resolve(err));
  });
}

const portOf = (url: string) => Number(new URL(url).port);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('SIGTERM drains a real `quire serve`', () => {
  let dataDir: string;
  let fileId: string;
  let token: string;
  let server: ServeProcess | undefined;

  const start = async (drainTimeout: string) => {
    server = await ServeProcess.start(dataDir, { args: ['--log-level', 'warn', '--drain-timeout', drainTimeout] });
    return server;
  };
  const client = () => new WopiClient((server as ServeProcess).url, fileId, token);
  const state = async () => {
    const c = client();
    const info = await c.checkFileInfo();
    assert.equal(info.status, 200, info.text);
    return { version: String(info.json.Version), sha: String(info.json.SHA256), content: await c.content() };
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-drain-'));
    const source = `${dataDir}-source.bin`;
    await writeFile(source, randomBytes(200 * 1024));
    try {
      fileId = (await runQuireJson<{ id: string }>(['add', source, '--name', 'Drain.docx', '--data', dataDir])).id;
    } finally {
      await rm(source, { force: true });
    }
    token = (await runQuireJson<{ access_token: string }>(['token', fileId, '--user', 'ed', '--data', dataDir]))
      .access_token;
    await start('2s');
    const locked = await client().lock(LOCK);
    assert.equal(locked.status, 200, locked.text);
    await server?.kill('SIGTERM');
  });

  after(async () => {
    await server?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a PutFile in flight finishes with 200; meanwhile no new connection is accepted; the version survives', {
    timeout: 90_000,
  }, async () => {
    // the drain ends as soon as the save does, so a generous timeout costs nothing here
    const s = await start('20s');
    const old = await state();
    const next = randomBytes(4 * MB);
    const known = await partFiles(dataDir);
    const put = new SlowPut(client().fileUrl('/contents'), next.length, LOCK);
    await put.write(next.subarray(0, 2 * MB));
    await waitForNewPart(dataDir, known, MB);

    s.child.kill('SIGTERM');
    await s.waitForOutput(/SIGTERM: draining/, 10_000);
    const refused = await connectError(portOf(s.url));
    assert.equal(refused?.code, 'ECONNREFUSED', 'a new connection is refused while draining');
    assert.ok(s.running, 'the process waits for the save');

    await put.write(next.subarray(2 * MB));
    put.req.end();
    assert.equal(await withTimeout(put.status, 20_000, 'the save to be answered'), 200);
    assert.equal(await put.version, String(Number(old.version) + 1));
    const exit = await s.exit(20_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(s.stdout, /Drained in \d+ ms: 1 request in flight finished; stopped/);

    await start('2s');
    const now = await state();
    assert.equal(now.version, String(Number(old.version) + 1), 'the version is there after a restart');
    assert.ok(now.content.equals(next), 'its bytes, byte for byte');
    assert.equal(now.sha, sha256(next));
    await server?.kill('SIGTERM');
  });

  it('a PutFile that does not finish within the drain timeout is cut and leaves the old version', {
    timeout: 90_000,
  }, async () => {
    const s = await start('1500ms');
    const old = await state();
    const known = await partFiles(dataDir);
    const put = new SlowPut(client().fileUrl('/contents'), 4 * MB, LOCK);
    await put.write(randomBytes(MB));
    await waitForNewPart(dataDir, known, MB / 2);

    const signalled = performance.now();
    s.child.kill('SIGTERM');
    const exit = await s.exit(20_000);
    assert.deepEqual(exit, { code: 0, signal: null }, 'a drain that cuts requests still exits 0');
    assert.ok(performance.now() - signalled >= 1400, 'the save had the drain timeout to finish');
    assert.equal(await withTimeout(put.status, 10_000, 'the cut upload to settle'), 0, 'no answer: it was cut');
    assert.match(s.stdout, /1 of 1 request in flight did not finish in time and were cut/);

    await start('2s');
    const now = await state();
    assert.equal(now.version, old.version);
    assert.equal(now.sha, old.sha);
    assert.ok(now.content.equals(old.content), 'the old version, byte for byte');
    assert.equal((await client().getLock()).headers.get('x-wopi-lock'), LOCK, 'the lock is still held');
    await server?.kill('SIGTERM');
  });

  it('an idle keep-alive connection does not hold the drain up', { timeout: 60_000 }, async () => {
    const s = await start('30s');
    const agent = new Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        get(`${s.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
      assert.equal(status, 200);
      assert.equal(Object.keys(agent.freeSockets).length, 1, 'the connection is kept alive, idle');
      const signalled = performance.now();
      s.child.kill('SIGTERM');
      assert.deepEqual(await s.exit(20_000), { code: 0, signal: null });
      assert.ok(performance.now() - signalled < 15_000, 'gone long before the 30 s drain timeout');
      assert.match(s.stdout, /0 requests in flight finished/);
    } finally {
      agent.destroy();
    }
  });

  it('a second signal exits at once; the save it cut leaves the old version', { timeout: 60_000 }, async () => {
    const s = await start('30s');
    const old = await state();
    const known = await partFiles(dataDir);
    const put = new SlowPut(client().fileUrl('/contents'), 4 * MB, LOCK);
    await put.write(randomBytes(MB));
    await waitForNewPart(dataDir, known, MB / 2);
    const signalled = performance.now();
    s.child.kill('SIGTERM');
    await s.waitForOutput(/SIGTERM: draining/, 10_000);
    s.child.kill('SIGINT');
    assert.deepEqual(await s.exit(20_000), { code: 1, signal: null });
    assert.ok(performance.now() - signalled < 15_000, 'gone long before the 30 s drain timeout');
    assert.match(s.stdout, /SIGINT again: exiting without waiting for the drain/);
    assert.equal(await withTimeout(put.status, 10_000, 'the cut upload to settle'), 0);

    await start('2s');
    const now = await state();
    assert.equal(now.version, old.version);
    assert.ok(now.content.equals(old.content));
    await server?.kill('SIGTERM');
  });
});

describe('close() drains a Quire mounted in another server', () => {
  it('/readyz answers 503 "draining" while a PutFile in flight finishes', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-drain-embed-'));
    let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
    const outer: Server = createServer((req, res) => {
      if (handler) handler(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(outer.address() as { port: number }).port}`;
    const embedded = await createQuire({ dataDir, publicUrl: `${origin}/office`, logger: false });
    handler = embedded.handler;
    try {
      const { quire } = embedded;
      const file = await quire.addFile({ source: Readable.from([Buffer.from('v1')]), name: 'E.docx', ownerId: 'o' });
      const minted = await quire.mintToken({ fileId: file.id, userId: 'ed' });
      const c = new WopiClient(`${origin}/office`, file.id, minted.access_token);
      assert.equal((await c.lock(LOCK)).status, 200);
      assert.equal((await fetch(`${origin}/office/readyz`)).status, 200);

      const next = randomBytes(2 * MB);
      const put = new SlowPut(c.fileUrl('/contents'), next.length, LOCK);
      await put.write(next.subarray(0, MB));
      await waitForNewPart(dataDir, new Map(), MB / 2);
      const closing = quire.close({ drainTimeoutMs: 20_000 });
      assert.equal(quire.draining, true);
      const ready = await fetch(`${origin}/office/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { error: 'not ready: draining', ready: false, draining: true });

      await put.write(next.subarray(MB));
      put.req.end();
      assert.equal(await withTimeout(put.status, 20_000, 'the save to be answered'), 200);
      assert.equal(await put.version, '2');
      const result = await withTimeout(closing, 20_000, 'close() to finish');
      assert.equal(result.cut, 0);
      assert.equal(result.inFlight, 1);
    } finally {
      handler = null;
      await embedded.close();
      outer.closeAllConnections();
      await new Promise<void>((resolve) => outer.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
