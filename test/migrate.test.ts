import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Quire, type QuireOptions } from '../src/quire.ts';
import {
  dropTestSchema,
  freshTestSchema,
  postgresAvailable,
  readResponse,
  TEST_DATABASE_URL,
  WopiClient,
} from './helpers/host.ts';
import { type CliResult, QUIRE_BIN, REPO_ROOT, runQuire, withTimeout } from './helpers/process-helpers.ts';
import { emptyS3Prefix, needsS3, s3ObjectsUnder, TEST_S3_BUCKET, testS3Options } from './helpers/s3.ts';

/**
 * `quire migrate` end to end: an embedded data dir made by a real Quire (files with several versions, a lock held,
 * users with passwords, a group, a share, a link and its guest, a sign-in, an API key, a webhook and its deliveries,
 * a rescued save, user info, events) is migrated by the command, as a child process, into a fresh PostgreSQL schema
 * (and an S3 prefix), and a Quire started on the result must serve all of it. Every table of the source must hold a
 * row here and arrive whole, so a table a later schema adds fails this test until the fixture makes a row of it.
 */

const PASSWORDS = { ada: 'ada password 1', bob: 'bob password 1' };
const HELD_LOCK = 'LOCK-HELD-BY-EDITOR';
/** Files made, and the first few get two more versions each: enough blobs that a copy can be killed half way. */
const FILE_COUNT = 36;
const BLOB_BYTES = 48 * 1024;

interface Source {
  dataDir: string;
  /** Every file's versions' bytes, oldest first. */
  versions: Map<string, Buffer[]>;
  lockedFile: string;
  /** A WOPI token minted before the migration: the data dir's signing key still signs on the other side. */
  token: string;
}

const urlFor = (schema: string) => {
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
};

const s3Env = (): Record<string, string> => {
  const env = process.env;
  return env.QUIRE_TEST_S3_ACCESS_KEY_ID && env.QUIRE_TEST_S3_SECRET_ACCESS_KEY
    ? {
        QUIRE_S3_ACCESS_KEY_ID: env.QUIRE_TEST_S3_ACCESS_KEY_ID,
        QUIRE_S3_SECRET_ACCESS_KEY: env.QUIRE_TEST_S3_SECRET_ACCESS_KEY,
      }
    : {};
};

/** The flags naming the test bucket's prefix and how to reach it. */
function blobFlags(prefix: string): string[] {
  const o = testS3Options(prefix);
  return [
    '--blobs',
    `s3://${TEST_S3_BUCKET}/${prefix}`,
    ...(o.endpoint ? ['--s3-endpoint', o.endpoint] : []),
    ...(o.region ? ['--s3-region', o.region] : []),
    ...(o.forcePathStyle ? ['--s3-path-style'] : []),
  ];
}

/** Every file under `dir` and its SHA-256. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

/** Makes a data dir the way people do: a Quire over HTTP and through its library. */
async function buildSource(dataDir: string, fileCount: number): Promise<Source> {
  const quire = await Quire.create({ dataDir });
  const url = await quire.listen(0, '127.0.0.1');
  try {
    const accounts = quire.accounts;
    assert.ok(accounts && quire.webhooks && quire.apiKeys);
    const ada = await accounts.create({ name: 'ada', displayName: 'Ada', password: PASSWORDS.ada, isAdmin: true });
    const bob = await accounts.create({ name: 'bob', displayName: 'Bob', password: PASSWORDS.bob });
    const actor = { userId: ada.id, userName: 'Ada' };
    // first, so that what follows queues deliveries (to a port nobody listens on: they fail and are retried)
    await quire.webhooks.register({ url: 'http://127.0.0.1:9/hook', description: 'the audit app' }, actor);
    await quire.apiKeys.create({ name: 'reports', scopes: ['files:read'] }, actor);
    const group = await quire.sharing.createGroup('Editors', actor);
    await quire.sharing.addMember(group.id, bob, actor);

    const versions = new Map<string, Buffer[]>();
    const ids: string[] = [];
    for (let i = 0; i < fileCount; i++) {
      const bytes = randomBytes(BLOB_BYTES);
      const file = await quire.addFile({ source: Readable.from([bytes]), name: `Doc ${i}.docx`, ownerId: ada.id });
      versions.set(file.id, [bytes]);
      ids.push(file.id);
    }
    const mint = async (fileId: string) =>
      (await quire.mintToken({ fileId, userId: ada.id, userName: 'Ada' })).access_token;
    for (const id of ids.slice(0, 3)) {
      const client = new WopiClient(url, id, await mint(id));
      assert.equal((await client.lock('SESSION')).status, 200);
      for (let v = 2; v <= 3; v++) {
        const bytes = randomBytes(BLOB_BYTES);
        assert.equal((await client.putFile(bytes, { 'X-WOPI-Lock': 'SESSION' })).status, 200);
        versions.get(id)?.push(bytes);
      }
      assert.equal((await client.unlock('SESSION')).status, 200);
    }
    const [first, second, third] = ids as [string, string, string];
    const token = await mint(first);
    const editor = new WopiClient(url, first, token);
    assert.equal((await editor.lock(HELD_LOCK)).status, 200);
    // a save with the wrong lock: refused, and kept as a rescued save
    assert.equal((await editor.putFile('lost the race', { 'X-WOPI-Lock': 'NOT-THE-LOCK' })).status, 409);
    assert.equal((await new WopiClient(url, second, await mint(second)).putUserInfo('{"theme":"dark"}')).status, 200);
    const fileRecord = async (id: string) => {
      const f = await quire.host.storage.catalog.getFile(id);
      assert.ok(f);
      return f;
    };
    await quire.sharing.share(
      await fileRecord(second),
      { principal: { kind: 'group', id: group.id }, role: 'editor', secureView: null },
      actor,
    );
    const link = await quire.sharing.createLink(
      await fileRecord(third),
      { role: 'viewer', secureView: null, expiresAt: null, password: null },
      actor,
    );
    await quire.sharing.guest(link, 'Visitor');
    const signIn = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'bob', password: PASSWORDS.bob, next: '/' }).toString(),
      redirect: 'manual',
    });
    assert.equal(signIn.status, 303, 'bob signs in');
    return { dataDir, versions, lockedFile: first, token };
  } finally {
    await quire.close();
  }
}

/** Spawns `quire migrate ARGS`, SIGKILLs it once a progress line shows some blobs copied and some not. */
async function migrateKilledMidway(args: string[], tmp: string): Promise<CliResult & { seen: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('QUIRE_')) env[k] = v;
  const child = spawn(process.execPath, [QUIRE_BIN, 'migrate', ...args], {
    cwd: REPO_ROOT,
    // its temp dir under the test's own: a killed run leaves its catalog snapshot there, removed with the rest
    env: { ...env, QUIRE_FROM_SOURCE: '1', TMPDIR: tmp, ...s3Env() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let seen = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const m = /^blobs: (\d+) of (\d+) \((\d+) copied/m.exec(stdout);
    if (!seen && m && Number(m[3]) > 0 && Number(m[1]) < Number(m[2])) {
      seen = m[0];
      child.kill('SIGKILL');
    }
  });
  const result = await withTimeout(
    new Promise<CliResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    }),
    120_000,
    'quire migrate (to be killed)',
  ).finally(() => child.kill('SIGKILL'));
  return { ...result, seen };
}

const migrateCli = (args: string[]) => runQuire(['migrate', ...args], { env: s3Env(), timeoutMs: 120_000 });

/** A value as both databases give it back, for comparison: numbers and booleans as text, bytes as hex. */
function normal(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `bytes:${value.toString('hex')}`;
  if (typeof value === 'boolean') return String(Number(value));
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  // the source may hold as text what the target holds as bytes (user info before it was kept as bytes)
  return value;
}

/** Checks every table of the source arrived whole: same rows, same values; none may be empty here. */
async function assertTablesCopied(dataDir: string, schema: string): Promise<void> {
  // read from a copy: a read-only SQLite connection would still create the source's -wal and -shm
  const copy = join(await mkdtemp(join(tmpdir(), 'quire-migrate-check-')), 'catalog.sqlite');
  await copyFile(join(dataDir, 'catalog.sqlite'), copy);
  const sqlite = new Database(copy, { readonly: true });
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const tables = (
      sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .all() as Array<{ name: string }>
    )
      .map((t) => t.name)
      .filter((t) => t !== 'schema_version');
    assert.ok(tables.length >= 16, `the catalog's tables: ${tables.join(', ')}`);
    const empty = tables.filter(
      (t) => (sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n === 0,
    );
    assert.deepEqual(empty, [], 'every table holds a row in this fixture (add some for a new table)');
    for (const table of tables) {
      const columns = (sqlite.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map(
        (c) => c.name,
      );
      const rowsOf = (rows: Array<Record<string, unknown>>) =>
        rows.map((r) => JSON.stringify(columns.map((c) => normal(r[c])))).sort();
      const source = rowsOf(sqlite.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>);
      const target = rowsOf(
        (await client.query(`SELECT * FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`)).rows,
      );
      const why = `table ${table} is copied whole`;
      assert.equal(target.length, source.length, why);
      // user_info may be text in the source, bytes in the target: compare those as text
      if (table === 'user_info') {
        const text = (rows: string[]) =>
          rows.map((r) =>
            r.replace(/"bytes:([0-9a-f]*)"/g, (_, hex) => JSON.stringify(Buffer.from(hex, 'hex').toString())),
          );
        assert.deepEqual(text(target), text(source), why);
      } else assert.deepEqual(target, source, why);
    }
  } finally {
    sqlite.close();
    await client.end();
    await rm(join(copy, '..'), { recursive: true, force: true });
  }
}

/** Starts a Quire on the migrated catalog and checks what people would see: versions, the lock, sign-in, events. */
async function assertServedFrom(source: Source, options: Partial<QuireOptions>): Promise<void> {
  const quire = await Quire.create({ dataDir: source.dataDir, ...options });
  const url = await quire.listen(0, '127.0.0.1');
  try {
    // the old password signs in
    const res = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ada', password: PASSWORDS.ada, next: '/' }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303, 'ada signs in with her old password');
    const cookie = res.headers.get('set-cookie')?.split(';')[0] as string;
    const api = async (path: string) =>
      readResponse(await fetch(`${url}${path}`, { headers: { Cookie: cookie, Accept: 'application/json' } }));
    // every version of every file, byte for byte: the head by GetFile, each version by the API's download
    for (const [id, bytes] of source.versions) {
      const token = (await quire.mintToken({ fileId: id, userId: 'ada', userName: 'Ada' })).access_token;
      assert.deepEqual(await new WopiClient(url, id, token).content(), bytes.at(-1), `GetFile of ${id}`);
      for (const [i, expected] of bytes.entries()) {
        const got = await api(`/api/files/${encodeURIComponent(id)}/versions/${i + 1}/content`);
        assert.equal(got.status, 200, got.text);
        assert.ok(got.bytes.equals(expected), `version ${i + 1} of ${id}`);
      }
    }
    // the lock is still held: another lock id gets 409 with the holder's lock; the token minted before still works
    const editor = new WopiClient(url, source.lockedFile, source.token);
    const conflict = await editor.lock('SOMEONE-ELSE');
    assert.equal(conflict.status, 409, conflict.text);
    assert.equal(conflict.headers.get('x-wopi-lock'), HELD_LOCK);
    // the events are there, and a new one is numbered after them
    const events = (await api('/api/events?limit=1000')).json as Array<{ id: number | string; type: string }>;
    assert.ok(
      events.some((e) => e.type === 'save.rescued'),
      'the rescued save is in the event log',
    );
    const highest = Math.max(...events.map((e) => Number(e.id)));
    await quire.addFile({ source: Readable.from([Buffer.from('after')]), name: 'After.docx', ownerId: 'ada' });
    const [newest] = (await api('/api/events?limit=1')).json as Array<{ id: number | string }>;
    assert.ok(
      Number(newest?.id) > highest,
      `a new event (${newest?.id}) is numbered after the copied ones (${highest})`,
    );
  } finally {
    await quire.close();
  }
}

describe('quire migrate', {
  skip: postgresAvailable ? false : 'PostgreSQL tests skipped: the test database is unreachable',
}, () => {
  let work: string;
  let source: Source;
  const schemas: string[] = [];
  const prefixes: string[] = [];
  const schema = () => {
    const s = freshTestSchema();
    schemas.push(s);
    return s;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'quire-migrate-'));
    source = await buildSource(join(work, 'data'), FILE_COUNT);
  });
  after(async () => {
    for (const s of schemas) await dropTestSchema(s);
    for (const p of prefixes) await emptyS3Prefix(p);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('to PostgreSQL alone: every table copied, the blobs left in the data dir, and a Quire on it serves everything', async () => {
    const target = schema();
    const before = await hashes(source.dataDir);
    const run = await migrateCli(['--data', source.dataDir, '--to', urlFor(target)]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /^table versions: \d+ rows$/m);
    assert.match(run.stdout, /^blobs: all \d+ present in .*; they stay there$/m);
    assert.match(run.stdout, /^Done: \d+ tables/m);
    assert.deepEqual(await hashes(source.dataDir), before, 'the data dir is untouched');
    await assertTablesCopied(source.dataDir, target);
    await assertServedFrom(source, { databaseUrl: urlFor(target) });

    // run again: the migration is finished, and Quire may have written there since: refused
    const again = await migrateCli(['--data', source.dataDir, '--to', urlFor(target)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a finished migration/);
  });

  it(
    'to PostgreSQL and S3, killed half way through the blobs, then run again: complete and correct',
    needsS3,
    async () => {
      const target = schema();
      const prefix = `quire-test-migrate-${randomBytes(6).toString('hex')}/`;
      prefixes.push(prefix);
      const args = ['--data', source.dataDir, '--to', urlFor(target), ...blobFlags(prefix)];
      const before = await hashes(source.dataDir);

      const tmp = join(work, 'tmp');
      await mkdir(tmp);
      const killed = await migrateKilledMidway(args, tmp);
      assert.equal(killed.signal, 'SIGKILL', `killed mid-way: ${killed.stdout}${killed.stderr}`);
      assert.ok(killed.seen, 'it was killed after some blobs were copied and before all were');
      assert.doesNotMatch(killed.stdout, /^Done/m);

      const rerun = await migrateCli(args);
      assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout);
      assert.match(rerun.stdout, /Resuming an unfinished migration/);
      const done = /^Done: .*; (\d+) blobs \((\d+) copied and verified, .*; (\d+) already there\)$/m.exec(rerun.stdout);
      assert.ok(done, rerun.stdout);
      assert.ok(Number(done[3]) > 0, 'the blobs the killed run copied are not copied again');
      assert.ok(Number(done[2]) > 0, 'the rest are copied now');
      assert.deepEqual(await hashes(source.dataDir), before, 'the data dir is untouched');

      // the bucket holds exactly the blobs the catalog references
      const referenced = new Set(
        [...source.versions.values()].flat().map((b) => createHash('sha256').update(b).digest('hex')),
      );
      referenced.add(createHash('sha256').update('lost the race').digest('hex'));
      const { objects } = await s3ObjectsUnder(`${prefix}blobs/`);
      assert.deepEqual(
        objects.map((k) => k.slice(`${prefix}blobs/`.length)).sort(),
        [...referenced].sort(),
        'every blob, and nothing else, under blobs/',
      );
      await assertTablesCopied(source.dataDir, target);
      // a Quire with its bytes in the bucket
      await assertServedFrom(source, { databaseUrl: urlFor(target), s3: testS3Options(prefix) });
    },
  );

  it("refuses a target holding another data dir's data, or data from no migration, and a catalog still open", async () => {
    const target = schema();
    const other = join(work, 'other');
    await buildSource(other, 3);
    const first = await migrateCli(['--data', other, '--to', urlFor(target)]);
    assert.equal(first.code, 0, first.stderr);
    const mixed = await migrateCli(['--data', source.dataDir, '--to', urlFor(target)]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /holds data migrated from .*other.*refusing to mix two Quires' data/);

    // a schema a Quire has been running on, never migrated into
    const used = schema();
    const quire = await Quire.create({ dataDir: join(work, 'pg-quire'), databaseUrl: urlFor(used) });
    await quire.accounts?.create({ name: 'zed', password: 'zed password 1' });
    await quire.close();
    const notEmpty = await migrateCli(['--data', source.dataDir, '--to', urlFor(used)]);
    assert.equal(notEmpty.code, 1);
    assert.match(notEmpty.stderr, /is not empty \(.*users.*\)/);

    // a Quire has the catalog open: refused unless --live
    const serving = await Quire.create({ dataDir: other });
    try {
      const open = await migrateCli(['--data', other, '--to', urlFor(schema())]);
      assert.equal(open.code, 1);
      assert.match(open.stderr, /catalog\.sqlite-wal exists: a Quire has this data dir open/);
      const live = await migrateCli(['--data', other, '--to', urlFor(schema()), '--live']);
      assert.equal(live.code, 0, live.stderr);
      assert.match(live.stdout, /Warning: the catalog is open/);
    } finally {
      await serving.close();
    }
  });

  it(
    'to S3 alone: the catalog stays, the blobs are copied; run again, each is read back and kept',
    needsS3,
    async () => {
      const prefix = `quire-test-migrate-${randomBytes(6).toString('hex')}/`;
      prefixes.push(prefix);
      const args = ['--data', source.dataDir, ...blobFlags(prefix)];
      const before = await hashes(source.dataDir);
      const first = await migrateCli(args);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      assert.match(first.stdout, /^Done: the catalog stays in SQLite; \d+ blobs \(\d+ copied and verified/m);
      assert.doesNotMatch(first.stdout, /^table /m);
      const again = await migrateCli(args);
      assert.equal(again.code, 0, again.stderr + again.stdout);
      assert.match(again.stdout, /\(0 copied and verified, 0 bytes; \d+ already there\)/);
      assert.deepEqual(await hashes(source.dataDir), before, 'the data dir is untouched');
      const { objects } = await s3ObjectsUnder(`${prefix}blobs/`);
      const count = /; (\d+) blobs/.exec(first.stdout)?.[1];
      assert.equal(objects.length, Number(count), 'every referenced blob is in the bucket');
    },
  );

  it('says what is wrong with how it was called', async () => {
    const none = await runQuire(['migrate', '--data', source.dataDir]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs --to, --blobs or both/);
    const badUrl = await runQuire(['migrate', '--to', 'mysql://x']);
    assert.match(badUrl.stderr, /--to must be a postgres:\/\/ URL/);
    const badBlobs = await runQuire(['migrate', '--blobs', 'bucket/prefix']);
    assert.match(badBlobs.stderr, /--blobs must be s3:\/\/BUCKET/);
    const noCatalog = await runQuire(['migrate', '--data', join(work, 'nothing'), '--to', urlFor('unused')]);
    assert.equal(noCatalog.code, 1);
    assert.match(noCatalog.stderr, /no Quire catalog at/);
  });
});
