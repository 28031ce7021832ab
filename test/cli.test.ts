import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import type { FileRecord } from '../src/storage/types.ts';
import { WopiClient } from './helpers/host.ts';
import { type CliResult, freePort, runQuire, ServeProcess } from './helpers/process-helpers.ts';

interface Added {
  id: string;
  name: string;
  wopiSrc: string;
}

interface Minted {
  access_token: string;
  access_token_ttl: number;
}

const HOUR = 60 * 60 * 1000;

/** The one line a command printed, parsed; fails unless it exited 0 and printed exactly one JSON line. */
function oneJsonLine<T>(result: CliResult): T {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout.endsWith('\n'), true, 'the line ends with a newline');
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one line: ${JSON.stringify(result.stdout)}`);
  return JSON.parse(lines[0] as string) as T;
}

/** What the data dir's catalog holds, read straight from its SQLite file. */
async function catalogFiles(dataDir: string): Promise<FileRecord[]> {
  const storage = await openSqliteStorage(dataDir);
  try {
    return await storage.catalog.listFiles();
  } finally {
    await storage.close();
  }
}

const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('quire CLI', () => {
  let work: string;
  /** Files to import live here; every data dir is made under here too. */
  let sources: string;
  let reportPath: string;
  let emptyPath: string;
  const reportBytes = Buffer.from('PK\u0003\u0004 pretend this is a docx');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'quire-cli-'));
    sources = join(work, 'sources');
    await mkdir(sources);
    reportPath = join(sources, 'Report.docx');
    emptyPath = join(sources, 'Empty.xlsx');
    await writeFile(reportPath, reportBytes);
    await writeFile(emptyPath, '');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  let dirCount = 0;
  const freshDataDir = () => join(work, `data-${++dirCount}`);

  describe('help', () => {
    it('`quire --help` exits 0 and prints usage naming serve, add, token and gc', async () => {
      const res = await runQuire(['--help']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Usage: quire/);
      for (const command of ['serve', 'add PATH', 'token FILE_ID', 'gc [--data DIR]']) {
        assert.ok(res.stdout.includes(command), command);
      }
    });

    it('an unknown command exits non-zero with a message', async () => {
      const res = await runQuire(['frobnicate']);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /unknown command: frobnicate/);
      assert.equal(res.stdout, '');
    });
  });

  describe('add', () => {
    it('prints exactly one JSON line with id, name and wopiSrc', async () => {
      const data = freshDataDir();
      const added = oneJsonLine<Added>(await runQuire(['add', reportPath, '--data', data]));
      assert.deepEqual(Object.keys(added).sort(), ['id', 'name', 'wopiSrc']);
      assert.equal(typeof added.id, 'string');
      assert.ok(added.id.length > 0);
      assert.equal(added.name, 'Report.docx');
      assert.ok(
        added.wopiSrc.endsWith(`/wopi/files/${added.id}`),
        `${added.wopiSrc} ends with /wopi/files/${added.id}`,
      );
      assert.match(added.wopiSrc, /^https?:\/\/[^/]+\/wopi\/files\//);

      const files = await catalogFiles(data);
      assert.equal(files.length, 1);
      assert.equal(files[0]?.id, added.id);
      assert.equal(files[0]?.name, 'Report.docx');
      assert.equal(files[0]?.size, reportBytes.length);
      assert.equal(files[0]?.sha256, sha256hex(reportBytes));
    });

    it('adds an empty file', async () => {
      const data = freshDataDir();
      const added = oneJsonLine<Added>(await runQuire(['add', emptyPath, '--data', data]));
      assert.equal(added.name, 'Empty.xlsx');
      const files = await catalogFiles(data);
      assert.equal(files.length, 1);
      assert.equal(files[0]?.size, 0);
      assert.equal(files[0]?.sha256, sha256hex(''));
    });

    it('--name renames on import', async () => {
      const data = freshDataDir();
      const added = oneJsonLine<Added>(
        await runQuire(['add', reportPath, '--name', 'Quarterly Café 日本.docx', '--data', data]),
      );
      assert.equal(added.name, 'Quarterly Café 日本.docx');
      const files = await catalogFiles(data);
      assert.deepEqual(
        files.map((f) => f.name),
        ['Quarterly Café 日本.docx'],
      );
    });

    it('adding the same name twice gives "name (1).ext", then "name (2).ext"', async () => {
      const data = freshDataDir();
      const first = oneJsonLine<Added>(await runQuire(['add', reportPath, '--data', data]));
      const second = oneJsonLine<Added>(await runQuire(['add', reportPath, '--data', data]));
      const third = oneJsonLine<Added>(await runQuire(['add', emptyPath, '--name', 'report.docx', '--data', data]));
      assert.equal(first.name, 'Report.docx');
      assert.equal(second.name, 'Report (1).docx');
      assert.equal(third.name, 'report (2).docx', 'names compare without case');
      assert.equal(new Set([first.id, second.id, third.id]).size, 3);
      const files = await catalogFiles(data);
      assert.deepEqual(files.map((f) => f.name).sort(), ['Report (1).docx', 'Report.docx', 'report (2).docx']);
    });

    describe('an illegal --name', () => {
      let data: string;
      before(async () => {
        data = freshDataDir();
        // one legal file first, so "nothing added" is checked against a non-empty catalog
        oneJsonLine<Added>(await runQuire(['add', emptyPath, '--data', data]));
      });

      for (const illegal of ['a/b.docx', '..', 'CON.docx', 'trailing.docx.', 'x'.repeat(300), 'a\u0001b.docx']) {
        it(`${JSON.stringify(illegal.slice(0, 20))} exits non-zero with a message and adds nothing`, async () => {
          const res = await runQuire(['add', reportPath, '--name', illegal, '--data', data]);
          assert.notEqual(res.code, 0);
          assert.equal(res.stdout, '');
          assert.match(res.stderr, /^quire: .*name/);
          const files = await catalogFiles(data);
          assert.deepEqual(
            files.map((f) => f.name),
            ['Empty.xlsx'],
          );
        });
      }
    });

    it('a missing file exits non-zero with a message', async () => {
      const data = freshDataDir();
      const res = await runQuire(['add', join(sources, 'does-not-exist.docx'), '--data', data]);
      assert.notEqual(res.code, 0);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /does-not-exist\.docx/);
    });
  });

  describe('token', () => {
    let data: string;
    let fileId: string;
    before(async () => {
      data = freshDataDir();
      fileId = oneJsonLine<Added>(await runQuire(['add', reportPath, '--data', data])).id;
    });

    it('prints {"access_token","access_token_ttl"} with the ttl about now + 1h (epoch ms)', async () => {
      const t0 = Date.now();
      const res = await runQuire([
        'token',
        fileId,
        '--user',
        'u',
        '--name',
        'U Ser',
        '--read-only',
        '--ttl',
        '1h',
        '--data',
        data,
      ]);
      const t1 = Date.now();
      const minted = oneJsonLine<Minted>(res);
      assert.deepEqual(Object.keys(minted).sort(), ['access_token', 'access_token_ttl']);
      assert.equal(typeof minted.access_token, 'string');
      assert.match(minted.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(typeof minted.access_token_ttl, 'number');
      assert.ok(
        minted.access_token_ttl >= t0 + HOUR && minted.access_token_ttl <= t1 + HOUR,
        `${minted.access_token_ttl} is within [${t0 + HOUR}, ${t1 + HOUR}]`,
      );
    });

    it('defaults to a 10 hour ttl', async () => {
      const t0 = Date.now();
      const minted = oneJsonLine<Minted>(await runQuire(['token', fileId, '--user', 'u', '--data', data]));
      const t1 = Date.now();
      assert.ok(minted.access_token_ttl >= t0 + 10 * HOUR && minted.access_token_ttl <= t1 + 10 * HOUR);
    });

    it('a token for an unknown id exits non-zero with a message', async () => {
      const res = await runQuire(['token', 'ffffffffffffffffffffffff', '--user', 'u', '--data', data]);
      assert.notEqual(res.code, 0);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /ffffffffffffffffffffffff/);
    });

    it('a token without --user exits non-zero with a message', async () => {
      const res = await runQuire(['token', fileId, '--data', data]);
      assert.notEqual(res.code, 0);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /--user/);
    });
  });

  describe('serve alongside add and token', () => {
    let data: string;
    let server: ServeProcess | undefined;
    let port: number;

    before(async () => {
      data = freshDataDir();
      port = await freePort();
      // default log level: what a person running `quire serve` sees
      server = await ServeProcess.start(data, { port, args: [] });
    });
    after(async () => {
      await server?.kill('SIGKILL');
    });

    it('prints where it listens', async () => {
      const m = await (server as ServeProcess).waitForOutput(/listening on (http:\/\/\S+)/);
      assert.equal(m[1], `http://127.0.0.1:${port}`);
    });

    it('records its URL in DATA/server.json', async () => {
      const recorded = JSON.parse(await readFile(join(data, 'server.json'), 'utf8'));
      assert.deepEqual(recorded, { publicUrl: `http://127.0.0.1:${port}` });
    });

    it('a file added with `quire add` is visible at once, at the wopiSrc add printed', async () => {
      const added = oneJsonLine<Added>(await runQuire(['add', reportPath, '--name', 'Live.docx', '--data', data]));
      assert.equal(added.wopiSrc, `http://127.0.0.1:${port}/wopi/files/${added.id}`);
      const minted = oneJsonLine<Minted>(
        await runQuire(['token', added.id, '--user', 'u', '--name', 'U Ser', '--data', data]),
      );

      const res = await fetch(`${added.wopiSrc}?access_token=${encodeURIComponent(minted.access_token)}`);
      assert.equal(res.status, 200);
      const info = (await res.json()) as Record<string, unknown>;
      assert.equal(info.BaseFileName, 'Live.docx');
      assert.equal(info.Size, reportBytes.length);
      assert.equal(info.UserId, 'u');
      assert.equal(info.UserFriendlyName, 'U Ser');
      assert.equal(info.UserCanWrite, true);

      const c = new WopiClient(`http://127.0.0.1:${port}`, added.id, minted.access_token);
      assert.ok((await c.content()).equals(reportBytes));
    });

    it('a --read-only token from `quire token` cannot write', async () => {
      const added = oneJsonLine<Added>(await runQuire(['add', emptyPath, '--name', 'ReadOnly.xlsx', '--data', data]));
      const minted = oneJsonLine<Minted>(
        await runQuire(['token', added.id, '--user', 'viewer', '--read-only', '--data', data]),
      );
      const c = new WopiClient(`http://127.0.0.1:${port}`, added.id, minted.access_token);
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200, info.text);
      assert.equal(info.json.UserCanWrite, false);
      assert.equal(info.json.ReadOnly, true);
      assert.equal(info.json.Size, 0);
      // the file is empty and unlocked, so only the token's permissions can refuse this
      const put = await c.putFile('written by a viewer');
      assert.equal(put.status, 401, put.text);
      assert.equal((await c.content()).length, 0);
    });
  });

  describe('serve --port 0', () => {
    let server: ServeProcess | undefined;
    after(async () => {
      await server?.kill('SIGKILL');
    });

    it('prints the port it actually listens on', async () => {
      const data = freshDataDir();
      server = ServeProcess.spawn(['serve', '--data', data, '--port', '0']);
      const m = await server.waitForOutput(/listening on (http:\/\/\S+)/);
      const url = m[1] as string;
      assert.doesNotMatch(url, /:0$/, `printed ${url}`);
      const res = await fetch(`${url}/healthz`);
      assert.equal(res.status, 200);
    });
  });

  describe('gc', () => {
    it('applies retention and removes blobs nothing references (an hour old), printing what it freed as one line', async () => {
      const data = freshDataDir();
      const added = oneJsonLine<Added>(await runQuire(['add', reportPath, '--data', data]));
      // the bytes of a save that never became a version, written two hours ago
      const storage = await openSqliteStorage(data);
      const stray = Buffer.from('a refused save left this');
      try {
        await storage.blobs.write(Readable.from([stray]));
      } finally {
        await storage.close();
      }
      const strayKey = sha256hex(stray);
      const strayPath = join(data, 'blobs', strayKey.slice(0, 2), strayKey.slice(2, 4), strayKey);
      const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
      await utimes(strayPath, twoHoursAgo, twoHoursAgo);
      const reportKey = sha256hex(reportBytes);
      const reportBlob = join(data, 'blobs', reportKey.slice(0, 2), reportKey.slice(2, 4), reportKey);
      await utimes(reportBlob, twoHoursAgo, twoHoursAgo);

      const freed = oneJsonLine<unknown>(await runQuire(['gc', '--data', data, '--autosave-retention', '7d']));
      assert.deepEqual(freed, {
        retention: { events: 0, rescued: 0, autosaves: { versions: 0, files: 0 } },
        garbage: { tempFiles: 0, blobs: 1, bytes: stray.length },
      });
      await assert.rejects(readFile(strayPath), { code: 'ENOENT' });
      assert.ok((await readFile(reportBlob)).equals(reportBytes), 'the imported file keeps its bytes');
      assert.equal((await catalogFiles(data))[0]?.id, added.id);
      const again = oneJsonLine<{ garbage: { blobs: number } }>(await runQuire(['gc', '--data', data]));
      assert.equal(again.garbage.blobs, 0);
    });

    it('a malformed retention is a usage error; off is accepted', async () => {
      const data = freshDataDir();
      const bad = await runQuire(['gc', '--data', data, '--autosave-retention', 'soon']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--autosave-retention/);
      const off = await runQuire(['gc', '--data', data], { env: { QUIRE_AUTOSAVE_RETENTION: 'off' } });
      assert.equal(off.code, 0, off.stderr);
    });
  });
});
