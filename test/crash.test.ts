import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type ClientRequest, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WopiClient } from './helpers/host.ts';
import {
  partFiles,
  runQuireJson,
  ServeProcess,
  waitFor,
  waitForNewPart,
  withTimeout,
} from './helpers/process-helpers.ts';

const LOCK = 'crash-suite-lock';
const MB = 1024 * 1024;

/** A PutFile written by hand, so the test decides how much of the promised body is ever sent. */
class RawPut {
  readonly req: ClientRequest;
  status: number | undefined;
  readonly settled: Promise<void>;

  constructor(client: WopiClient, declaredLength: number) {
    const url = new URL(client.fileUrl('/contents'));
    this.req = request({
      host: url.hostname,
      port: Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: false,
      headers: {
        'X-WOPI-Override': 'PUT',
        'X-WOPI-Lock': LOCK,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(declaredLength),
      },
    });
    this.settled = new Promise<void>((resolve) => {
      this.req.on('error', () => resolve());
      this.req.on('close', () => resolve());
      this.req.on('response', (res) => {
        this.status = res.statusCode;
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
    });
  }

  /** Writes `data` in 1 MB chunks, waiting for the socket to drain (each wait bounded). */
  async write(data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; off += MB) {
      if (!this.req.write(data.subarray(off, off + MB))) {
        await withTimeout(once(this.req, 'drain'), 30_000, 'the upload socket to drain');
      }
    }
  }
}

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('crash safety of a real `quire serve` process', () => {
  let dataDir: string;
  let server: ServeProcess | undefined;
  let fileId: string;
  let token: string;
  const original = randomBytes(300 * 1024);

  const client = () => new WopiClient((server as ServeProcess).url, fileId, token);

  async function restart(): Promise<void> {
    if (server?.running) await server.kill('SIGKILL');
    server = await ServeProcess.start(dataDir);
  }

  async function state() {
    const c = client();
    const info = await c.checkFileInfo();
    assert.equal(info.status, 200, info.text);
    const content = await c.content();
    return { version: String(info.json.Version), size: info.json.Size, sha: info.json.SHA256, content };
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-crash-'));
    const source = `${dataDir}-source.bin`;
    await writeFile(source, original);
    try {
      const added = await runQuireJson<{ id: string }>(['add', source, '--name', 'Crash.docx', '--data', dataDir]);
      fileId = added.id;
    } finally {
      await rm(source, { force: true });
    }
    const minted = await runQuireJson<{ access_token: string }>([
      'token',
      fileId,
      '--user',
      'crash-tester',
      '--data',
      dataDir,
    ]);
    token = minted.access_token;
    server = await ServeProcess.start(dataDir);
    const locked = await client().lock(LOCK);
    assert.equal(locked.status, 200, locked.text);
  });

  after(async () => {
    await server?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the imported file byte for byte', { timeout: 60_000 }, async () => {
    const s = await state();
    assert.ok(s.content.equals(original));
    assert.equal(s.size, original.length);
    assert.equal(s.sha, sha256b64(original));
  });

  it('SIGKILL during a PutFile body keeps the previous version and the lock', { timeout: 180_000 }, async () => {
    if (!server?.running) await restart();
    const beforeCrash = await state();
    const known = await partFiles(dataDir);
    const put = new RawPut(client(), 20 * MB);
    await put.write(randomBytes(10 * MB));
    await waitForNewPart(dataDir, known, 2 * MB);

    const exit = await (server as ServeProcess).kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    put.req.destroy();
    await withTimeout(put.settled, 10_000, 'the aborted upload to settle');
    assert.notEqual(put.status, 200, 'the interrupted upload was never acknowledged');

    await restart();
    const afterCrash = await state();
    assert.ok(afterCrash.content.equals(beforeCrash.content), 'GetFile returns the previous bytes');
    assert.equal(afterCrash.version, beforeCrash.version);
    assert.equal(afterCrash.size, beforeCrash.size);
    assert.equal(afterCrash.sha, beforeCrash.sha);

    const c = client();
    const lock = await c.getLock();
    assert.equal(lock.headers.get('x-wopi-lock'), LOCK, 'the lock survived the restart');
    const next = randomBytes(64 * 1024);
    const saved = await c.putFile(next, { 'X-WOPI-Lock': LOCK });
    assert.equal(saved.status, 200, saved.text);
    assert.ok((await c.content()).equals(next));
    const info = await c.checkFileInfo();
    assert.notEqual(String(info.json.Version), beforeCrash.version);
  });

  /** When, relative to a complete body, the server dies: a fraction of how long a save takes, or after its 200. */
  const moments: Array<{ label: string; fraction?: number }> = [
    { label: 'as the body completes', fraction: 0 },
    { label: 'a quarter of a save later', fraction: 0.25 },
    { label: 'half a save later', fraction: 0.5 },
    { label: 'three quarters of a save later', fraction: 0.75 },
    { label: 'right after the 200' },
  ];
  for (const moment of moments) {
    it(`SIGKILL ${moment.label}, body complete: the old or the new version, never a torn one`, {
      timeout: 180_000,
    }, async (t) => {
      if (!server?.running) await restart();
      const c = client();
      // how long an uninterrupted save of this size takes here, now
      const started = performance.now();
      const timed = await c.putFile(randomBytes(3 * MB), { 'X-WOPI-Lock': LOCK });
      assert.equal(timed.status, 200, timed.text);
      const saveMs = performance.now() - started;

      const old = await state();
      const next = randomBytes(3 * MB);
      const put = new RawPut(client(), next.length);
      const sent = performance.now();
      await put.write(next);
      put.req.end();
      if (moment.fraction === undefined) {
        await withTimeout(put.settled, 30_000, 'the save to be answered');
        assert.equal(put.status, 200, 'the uninterrupted save succeeded');
      } else {
        await sleep(Math.max(0, saveMs * moment.fraction - (performance.now() - sent)));
      }
      await (server as ServeProcess).kill('SIGKILL');
      put.req.destroy();
      await withTimeout(put.settled, 10_000, 'the upload to settle');
      const acknowledged = put.status === 200;

      await restart();
      const now = await state();
      t.diagnostic(
        `save takes ${Math.round(saveMs)} ms; acknowledged: ${acknowledged}; version ${old.version} → ${now.version}`,
      );
      if (now.version === old.version) {
        assert.ok(!acknowledged, 'a save answered 200 must survive the crash');
        assert.ok(now.content.equals(old.content), 'old version, old bytes');
        assert.equal(now.size, old.size);
        assert.equal(now.sha, old.sha);
      } else {
        assert.equal(
          Number(now.version),
          Number(old.version) + 1,
          `version moved by one (${old.version} → ${now.version})`,
        );
        assert.ok(now.content.equals(next), 'new version, new bytes');
        assert.equal(now.size, next.length);
        assert.equal(now.sha, sha256b64(next));
      }
      assert.equal((await client().getLock()).headers.get('x-wopi-lock'), LOCK, 'the lock survived');
    });
  }

  it('a client that aborts mid-body leaves the file unchanged and the server serving', {
    timeout: 120_000,
  }, async () => {
    if (!server?.running) await restart();
    const beforeAbort = await state();
    const known = await partFiles(dataDir);
    const put = new RawPut(client(), 20 * MB);
    await put.write(randomBytes(6 * MB));
    await waitForNewPart(dataDir, known, 1 * MB);
    put.req.destroy();
    await withTimeout(put.settled, 10_000, 'the aborted upload to settle');

    // the server notices: its temp file for this upload goes away
    await waitFor(
      async () => [...(await partFiles(dataDir)).keys()].every((name) => known.has(name)),
      10_000,
      'the aborted upload to be cleaned up',
    );
    assert.ok((server as ServeProcess).running, 'the server is still running');
    const afterAbort = await state();
    assert.ok(afterAbort.content.equals(beforeAbort.content));
    assert.equal(afterAbort.version, beforeAbort.version);
    assert.equal(afterAbort.sha, beforeAbort.sha);

    const c = client();
    const next = Buffer.from('saved after an aborted upload');
    const saved = await c.putFile(next, { 'X-WOPI-Lock': LOCK });
    assert.equal(saved.status, 200, saved.text);
    assert.ok((await c.content()).equals(next));
  });
});
