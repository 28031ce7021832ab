import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { Quire } from '../src/quire.ts';
import { dialectFor } from '../src/storage/postgres/database.ts';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import { migrate, SCHEMA_VERSION, schemaOne } from '../src/storage/sql/schema.ts';
import { SqliteDatabase } from '../src/storage/sqlite/database.ts';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { freshTestSchema, storageKinds, TEST_DATABASE_URL, WopiClient } from './helpers/host.ts';

/** A data dir written by Quire before the schema was numbered (commit e2afce2): one file, locked by an editor. */
const SCHEMA_ONE_DIR = join(import.meta.dirname, 'fixtures', 'data-dir-schema-1');
const OLD_FILE = '0026b42d73f5a152cc64a30c';

const temps: string[] = [];
async function copyOfSchemaOne(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quire-schema-1-'));
  temps.push(dir);
  await cp(SCHEMA_ONE_DIR, dir, { recursive: true });
  return dir;
}
after(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

describe('the schema moves forward, once, and keeps what an older Quire wrote', () => {
  it('an old data dir opens: its file, bytes and lock are there, and the lock is refreshable', async () => {
    const dir = await copyOfSchemaOne();
    const storage = await openSqliteStorage(dir);
    try {
      const [version] = await storage.db.all<{ version: number }>('SELECT version FROM schema_version');
      assert.equal(Number(version?.version), SCHEMA_VERSION);
      const state = await storage.catalog.getState(OLD_FILE, Date.UTC(2026, 0, 2));
      assert.equal(state?.file.name, 'Plan.docx');
      assert.deepEqual(state?.lock, {
        value: 'old-lock',
        expiresAt: Date.UTC(2100, 0, 1),
        takenAt: undefined,
        refreshedAt: undefined,
      });
      const now = Date.UTC(2026, 0, 2);
      assert.deepEqual(
        await storage.locks.releaseSilent(now, now),
        [],
        'a lock from before refreshes were kept waits for its expiry',
      );
      await storage.locks.update(OLD_FILE, now, (c) => ({ value: c?.value ?? '', expiresAt: now + 1_800_000 }));
      assert.equal((await storage.locks.get(OLD_FILE, now))?.refreshedAt, now);
    } finally {
      await storage.close();
    }
    // opening again changes nothing
    const again = await openSqliteStorage(dir);
    assert.equal((await again.catalog.getFile(OLD_FILE))?.name, 'Plan.docx');
    await again.close();
  });

  it('a Quire serving an old data dir answers WOPI for the old file (GetFile, GetLock, RefreshLock)', async () => {
    const dataDir = await copyOfSchemaOne();
    const quire = await Quire.create({ dataDir, logger: false });
    try {
      const url = await quire.listen(0, '127.0.0.1');
      const { access_token } = await quire.mintToken({ fileId: OLD_FILE, userId: 'ann' });
      const c = new WopiClient(url, OLD_FILE, access_token);
      assert.equal((await c.getFile()).text, 'hello from schema one');
      assert.equal((await c.getLock()).headers.get('x-wopi-lock'), 'old-lock');
      assert.equal((await c.refreshLock('old-lock')).status, 200);
    } finally {
      await quire.close();
    }
  });

  for (const kind of storageKinds) {
    it(`a catalog written by a newer Quire is refused with a reason, and left as it was [${kind.name}]`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'quire-newer-'));
      temps.push(dir);
      const schema = freshTestSchema();
      const open = () =>
        kind.name === 'sqlite'
          ? openSqliteStorage(dir)
          : openPostgresStorage({ connectionString: TEST_DATABASE_URL, schema, blobDir: join(dir, 'blobs') });
      const storage = await open();
      const table = kind.name === 'sqlite' ? 'schema_version' : `${pg.escapeIdentifier(schema)}.schema_version`;
      await storage.db.run(`UPDATE ${table} SET version = $1`, [SCHEMA_VERSION + 1]);
      await storage.close();
      try {
        await assert.rejects(open(), /newer Quire \(schema \d+; this Quire knows up to \d+\)/);
        const peek = await openRawVersion(kind.name, dir, schema);
        assert.equal(peek, SCHEMA_VERSION + 1, 'the number is not moved back');
      } finally {
        if (kind.name === 'postgres') await dropSchema(schema);
      }
    });
  }

  if (storageKinds.some((k) => k.name === 'postgres')) {
    it('a PostgreSQL schema at schema 1 (as it shipped) is brought up to date, its rows kept [postgres]', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'quire-pg-one-'));
      temps.push(dir);
      const schema = freshTestSchema();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        const ident = pg.escapeIdentifier(schema);
        await client.query(`CREATE SCHEMA ${ident}`);
        const dialect = dialectFor(schema);
        for (const statement of schemaOne(dialect)) await client.query(statement);
        await client.query(
          `INSERT INTO ${ident}.files (id, name, name_key, owner_id, created_at, version) VALUES ('f1', 'A.docx', 'a.docx', 'ann', 1, 1)`,
        );
        await client.query(
          `INSERT INTO ${ident}.versions (file_id, version, blob_key, size, sha256, created_at, author_id, source) VALUES ('f1', 1, 'k', 0, 'h', 1, 'ann', 'upload')`,
        );
        await client.query(`INSERT INTO ${ident}.locks (file_id, value, expires_at) VALUES ('f1', 'L', 4102444800000)`);

        const storage = await openPostgresStorage({
          connectionString: TEST_DATABASE_URL,
          schema,
          blobDir: join(dir, 'blobs'),
        });
        try {
          assert.deepEqual(await storage.locks.get('f1', 2), {
            value: 'L',
            expiresAt: 4102444800000,
            takenAt: undefined,
            refreshedAt: undefined,
          });
          const { rows } = await client.query(`SELECT version FROM ${ident}.schema_version`);
          assert.deepEqual(
            rows.map((r) => Number(r.version)),
            [SCHEMA_VERSION],
          );
          await storage.locks.update('f1', 5, (c) => ({ value: c?.value ?? '', expiresAt: 10_000 }));
          assert.equal((await storage.locks.get('f1', 5))?.takenAt, 5, 'the new columns are written');
        } finally {
          await storage.close();
        }
        // running the migration again on an up-to-date schema is a no-op
        await client.query('BEGIN');
        const again = await migrate(
          {
            all: async (sql, p) => (await client.query(sql, p as unknown[])).rows,
            run: async (sql, p) => (await client.query(sql, p as unknown[])).rowCount ?? 0,
          },
          dialect,
        );
        await client.query('COMMIT');
        assert.deepEqual(again, { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
        await client.end();
      }
    });
  }
});

async function openRawVersion(kind: string, dir: string, schema: string): Promise<number> {
  if (kind === 'sqlite') {
    // through the driver alone (no migration), which keeps better-sqlite3's objects from the collector: a raw
    // Database dropped here can abort this process on Node 24 (src/storage/sqlite/database.ts, heldUntilExit)
    const db = new SqliteDatabase(join(dir, 'catalog.sqlite'));
    try {
      const [row] = await db.all<{ version: number }>('SELECT version FROM schema_version');
      return Number(row?.version);
    } finally {
      await db.close();
    }
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_version`);
    return Number(rows[0]?.version);
  } finally {
    await client.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).finally(() => client.end());
}
