import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_PERMISSIONS, TokenService } from '../src/auth/tokens.ts';
import { systemClock } from '../src/core/clock.ts';
import { asInsufficientStorage, InsufficientStorageError } from '../src/core/errors.ts';
import { startHost } from './helpers/host.ts';
import {
  freePort,
  QUIRE_BIN,
  REPO_ROOT,
  runQuire,
  runQuireJson,
  ServeProcess,
  waitFor,
} from './helpers/process-helpers.ts';
import { closeHost } from './helpers/put-helpers.ts';

/**
 * A disk running out: writes are refused early (507, with the reason) once free space falls below the reserve,
 * /readyz says so, reads go on; and a disk that fills up anyway answers 507 and keeps nothing of the failed write.
 */

const PASSWORD = 'long enough 1';

async function json(res: Response) {
  const text = await res.text();
  try {
    return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
  } catch {
    return { status: res.status, headers: res.headers, text, body: undefined };
  }
}

describe('/readyz', () => {
  it('answers 200 when the catalog answers, the blob dir takes writes and there is room (default reserve)', async () => {
    const host = await startHost();
    try {
      const ready = await json(await fetch(`${host.url}/readyz`));
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.body.ready, true);
      assert.deepEqual(Object.keys(ready.body.checks).sort(), ['blobs', 'catalog', 'space']);
      const { space } = ready.body.checks;
      assert.equal(space.ok, true);
      assert.ok(space.minFreeBytes > 0 && space.minFreeBytes <= 1024 ** 3, `default reserve ${space.minFreeBytes}`);
      assert.ok(space.freeBytes >= space.minFreeBytes);
      assert.equal(ready.headers.get('cache-control'), 'no-store');
    } finally {
      await closeHost(host);
    }
  });

  it('answers 503 naming the catalog when it does not answer', async () => {
    const host = await startHost();
    try {
      await host.quire.host.storage.close();
      const ready = await json(await fetch(`${host.url}/readyz`));
      assert.equal(ready.status, 503, ready.text);
      assert.match(ready.body.error, /^not ready: catalog: /);
      assert.equal(ready.body.checks.catalog.ok, false);
      assert.equal(ready.body.checks.space.ok, true);
    } finally {
      host.quire.app.server.closeAllConnections();
      await host.quire.app.close();
      await rm(host.dataDir, { recursive: true, force: true });
    }
  });
});

describe('free space below the reserve (--min-free-space larger than the disk)', () => {
  let dir: string;
  let data: string;
  let server: ServeProcess;
  let fileId: string;
  let token: string;
  let cookie: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-space-'));
    data = join(dir, 'data');
    await writeFile(join(dir, 'Doc.docx'), 'the original');
    fileId = (await runQuireJson<{ id: string }>(['add', join(dir, 'Doc.docx'), '--data', data])).id;
    token = (await runQuireJson<{ access_token: string }>(['token', fileId, '--user', 'ann', '--data', data]))
      .access_token;
    const added = await runQuire(['user', 'add', 'ann', '--data', data], { env: { QUIRE_PASSWORD: PASSWORD } });
    assert.equal(added.code, 0, added.stderr);
    // far more than any disk this runs on has free
    server = await ServeProcess.start(data, { args: ['--log-level', 'warn', '--min-free-space', '1000000T'] });
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ann', password: PASSWORD, next: '/' }).toString(),
      redirect: 'manual',
    });
    assert.equal(login.status, 303);
    cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const wopi = (suffix = '') => `${server.url}/wopi/files/${fileId}${suffix}`;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { Cookie: cookie, Accept: 'application/json', ...init.headers },
    });

  it('/readyz answers 503 with the reason; /healthz stays 200', async () => {
    const ready = await json(await fetch(`${server.url}/readyz`));
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.body.ready, false);
    assert.match(ready.body.error, /^not ready: space: only .* free .* less than the .* kept in reserve/);
    assert.equal(ready.body.checks.space.ok, false);
    assert.equal(typeof ready.body.checks.space.freeBytes, 'number');
    assert.equal(ready.body.checks.space.minFreeBytes, 1_000_000 * 1024 ** 4);
    assert.equal(ready.body.checks.catalog.ok, true);
    assert.equal(ready.body.checks.blobs.ok, true);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('PutFile, PutRelativeFile, an upload and a new document are refused with 507 and change nothing', async () => {
    const lock = await fetch(wopi(), {
      method: 'POST',
      headers: { ...auth(), 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' },
    });
    assert.equal(lock.status, 200);
    const listBefore = await json(await api('/api/files'));

    const put = await json(
      await fetch(wopi('/contents'), {
        method: 'POST',
        headers: { ...auth(), 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        body: 'x'.repeat(100_000),
      }),
    );
    assert.equal(put.status, 507, put.text);
    assert.match(put.body.error, /^insufficient storage: only .* free/);
    assert.match(put.headers.get('x-wopi-servererror') ?? '', /insufficient storage/);

    const relative = await fetch(wopi(), {
      method: 'POST',
      headers: { ...auth(), 'X-WOPI-Override': 'PUT_RELATIVE', 'X-WOPI-SuggestedTarget': 'Copy.docx' },
      body: 'copy',
    });
    assert.equal(relative.status, 507, await relative.text());

    const upload = await json(await api('/api/files?name=Up.docx', { method: 'POST', body: 'uploaded' }));
    assert.equal(upload.status, 507, upload.text);
    assert.match(upload.body.error, /insufficient storage/);
    const created = await api('/api/files/new', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'document' }),
    });
    assert.equal(created.status, 507, await created.text());

    // reads go on, and nothing changed
    const info = await json(await fetch(wopi(), { headers: auth() }));
    assert.equal(info.status, 200);
    assert.equal(info.body.Version, '1');
    const content = await fetch(wopi('/contents'), { headers: auth() });
    assert.equal(await content.text(), 'the original');
    assert.deepEqual((await json(await api('/api/files'))).body, listBefore.body);
    assert.deepEqual(await readdir(join(data, 'blobs', 'tmp')), []);
  });

  it('`quire add` is refused the same way, and says why', async () => {
    const res = await runQuire(['add', join(dir, 'Doc.docx'), '--data', data, '--min-free-space', '1000000T']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /quire: insufficient storage: only .* free/);
  });
});

describe('a full disk while writing (ENOSPC): 507, nothing kept', () => {
  it('maps the "no room" codes of the filesystem and the databases to 507, and nothing else', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']) {
      const mapped = asInsufficientStorage(Object.assign(new Error('write failed'), { code }));
      assert.ok(mapped instanceof InsufficientStorageError, code);
      assert.equal(mapped.status, 507);
      assert.match(mapped.message, new RegExp(`^insufficient storage: .*\\(${code}\\); nothing was saved$`));
    }
    for (const err of [new Error('x'), Object.assign(new Error('x'), { code: 'EACCES' }), null, 'ENOSPC']) {
      assert.equal(asInsufficientStorage(err), null);
    }
  });

  /** A tiny tmpfs needs mount rights: available in a user namespace of our own where the kernel allows them. */
  const tmpfsProblem = (() => {
    const probe = spawnSync('unshare', ['-Urm', 'sh', '-c', 'mount -t tmpfs -o size=1m quire-probe "$0"', tmpdir()], {
      encoding: 'utf8',
    });
    if (probe.error) return `unshare is not available (${probe.error.message})`;
    return probe.status === 0 ? null : `cannot mount a tmpfs in a user namespace: ${probe.stderr.trim()}`;
  })();

  it('a save larger than a tiny disk gets 507 with the reason, changes nothing and gives the room back', {
    skip: tmpfsProblem ?? false,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quire-enospc-'));
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(dir, 'Doc.docx'), 'the original');
    const secret = 'a test signing key that is long enough to use';
    const port = await freePort();
    // a 2 MiB tmpfs as the data dir, seen only by this process tree; gone when it exits
    const script =
      'mount -t tmpfs -o size=2m quire-enospc "$1" && node "$2" add "$3" --data "$1" --min-free-space 0 && ' +
      'exec node "$2" serve --data "$1" --port "$4" --min-free-space 0 --log-level warn';
    const child: ChildProcess = spawn(
      'unshare',
      ['-Urm', 'sh', '-c', script, 'sh', data, QUIRE_BIN, join(dir, 'Doc.docx'), String(port)],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, QUIRE_FROM_SOURCE: '1', QUIRE_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited: ${out} ${err}`);
          return (await fetch(`${url}/healthz`)).status === 200;
        },
        30_000,
        'quire serve on a tmpfs',
      );
      const { id } = JSON.parse(out.split('\n')[0] as string) as { id: string };
      const tokens = new TokenService(new TextEncoder().encode(secret), systemClock);
      const { access_token } = await tokens.mint({
        fileId: id,
        userId: 'ann',
        userName: 'Ann',
        permissions: ALL_PERMISSIONS,
      });
      const headers = { Authorization: `Bearer ${access_token}` };
      const file = `${url}/wopi/files/${id}`;
      assert.equal(
        (await fetch(file, { method: 'POST', headers: { ...headers, 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } }))
          .status,
        200,
      );

      const put = await json(
        await fetch(`${file}/contents`, {
          method: 'POST',
          headers: { ...headers, 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
          body: Buffer.alloc(4 * 1024 * 1024, 'x'),
        }),
      );
      assert.equal(put.status, 507, put.text);
      assert.equal(put.body.error, 'insufficient storage: the disk is full (ENOSPC); nothing was saved');

      // nothing changed, reads work, and with the failed write's room given back, saves work again
      const info = await json(await fetch(file, { headers }));
      assert.equal(info.body.Version, '1');
      assert.equal(await (await fetch(`${file}/contents`, { headers })).text(), 'the original');
      const ready = await json(await fetch(`${url}/readyz`));
      assert.equal(ready.status, 200, ready.text);
      const small = await fetch(`${file}/contents`, {
        method: 'POST',
        headers: { ...headers, 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        body: 'a small save',
      });
      assert.equal(small.status, 200, await small.text());
      assert.equal(await (await fetch(`${file}/contents`, { headers })).text(), 'a small save');
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
