import assert from 'node:assert/strict';
import { chmod, lstat, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runQuire, runQuireJson, ServeProcess } from './helpers/process-helpers.ts';

/**
 * The data dir holds password hashes, the signing key and everyone's documents: everything in it is its owner's
 * only (directories 0700, files 0600), whoever creates it (the server or a CLI command), whatever the umask.
 */

/** Every path under `dir` (and `dir` itself as "."), with its permission bits. */
async function modes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>([['.', (await stat(dir)).mode & 0o777]]);
  const walk = async (sub: string): Promise<void> => {
    for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      out.set(rel, (await lstat(join(dir, rel))).mode & 0o777);
      if (e.isDirectory()) await walk(rel);
    }
  };
  await walk('');
  return out;
}

/** Asserts that every directory under `dir` is 0700 and every file 0600; answers the paths it saw. */
async function assertPrivate(dir: string): Promise<string[]> {
  const found = await modes(dir);
  const wrong: string[] = [];
  for (const [path, mode] of found) {
    const isDir = (await stat(join(dir, path))).isDirectory();
    const want = isDir ? 0o700 : 0o600;
    if (mode !== want) wrong.push(`${path}: ${mode.toString(8)}, not ${want.toString(8)}`);
  }
  assert.deepEqual(wrong, [], `in ${dir}`);
  return [...found.keys()];
}

describe('the data dir is private to the user running Quire', () => {
  let root: string;
  let doc: string;
  let umask: number;

  before(async () => {
    // the most permissive umask: every mode below must come from Quire, not from the umask (children inherit it)
    umask = process.umask(0);
    root = await mkdtemp(join(tmpdir(), 'quire-modes-'));
    doc = join(root, 'Doc.docx');
    await writeFile(doc, 'some bytes');
  });
  after(async () => {
    process.umask(umask);
    await rm(root, { recursive: true, force: true });
  });

  it('created by `quire add`: the dir, the catalog, the key and the blobs', async () => {
    const data = join(root, 'by-add', 'nested');
    await runQuireJson(['add', doc, '--data', data]);
    const paths = await assertPrivate(join(root, 'by-add'));
    for (const p of ['nested/catalog.sqlite', 'nested/secret.key', 'nested/blobs', 'nested/blobs/tmp']) {
      assert.ok(paths.includes(p), `${p} exists: ${paths.join(', ')}`);
    }
    assert.ok(
      paths.some((p) => /^nested\/blobs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p)),
      'a blob was written',
    );
  });

  it('created by `quire user add`', async () => {
    const data = join(root, 'by-user-add');
    const res = await runQuire(['user', 'add', 'ann', '--data', data], { env: { QUIRE_PASSWORD: 'long enough 1' } });
    assert.equal(res.code, 0, res.stderr);
    const paths = await assertPrivate(data);
    assert.ok(paths.includes('catalog.sqlite'));
  });

  it('created by `quire serve`, with saves, while it runs (the -wal and -shm files, server.json)', async () => {
    const data = join(root, 'by-serve');
    const server = await ServeProcess.start(data);
    try {
      const { id } = await runQuireJson<{ id: string }>(['add', doc, '--data', data]);
      const { access_token } = await runQuireJson<{ access_token: string }>([
        'token',
        id,
        '--user',
        'ann',
        '--data',
        data,
      ]);
      const url = `${server.url}/wopi/files/${id}`;
      const auth = { Authorization: `Bearer ${access_token}` };
      const lock = await fetch(url, {
        method: 'POST',
        headers: { ...auth, 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' },
      });
      assert.equal(lock.status, 200);
      const put = await fetch(`${url}/contents`, {
        method: 'POST',
        headers: { ...auth, 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        body: 'saved by the server',
      });
      assert.equal(put.status, 200, await put.text());
      const paths = await assertPrivate(data);
      for (const p of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm', 'server.json', 'secret.key']) {
        assert.ok(paths.includes(p), `${p} exists: ${paths.join(', ')}`);
      }
    } finally {
      await server.stop();
    }
  });

  it('an existing data dir open to others is made private on start, and the log says so', async () => {
    const data = join(root, 'loose');
    await runQuireJson(['add', doc, '--data', data]);
    await chmod(data, 0o755);
    await chmod(join(data, 'catalog.sqlite'), 0o644);
    await chmod(join(data, 'secret.key'), 0o644);
    await chmod(join(data, 'blobs'), 0o777);
    const server = await ServeProcess.start(data);
    try {
      assert.equal((await stat(data)).mode & 0o777, 0o700);
      assert.equal((await stat(join(data, 'catalog.sqlite'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(data, 'secret.key'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(data, 'blobs'))).mode & 0o777, 0o700);
      const line = server.stdout
        .split('\n')
        .find((l) => l.includes('was open to other users: took their permissions away'));
      assert.ok(line, server.stdout);
      const logged = JSON.parse(line) as { level: number; tightened: Array<{ path: string; was: string }> };
      assert.equal(logged.level, 40, 'a warning');
      assert.deepEqual(
        logged.tightened.map((t) => [t.path, t.was]).sort(),
        [
          [data, '0755'],
          [join(data, 'blobs'), '0777'],
          [join(data, 'catalog.sqlite'), '0644'],
          [join(data, 'secret.key'), '0644'],
        ].sort(),
      );
    } finally {
      await server.stop();
    }
  });
});
