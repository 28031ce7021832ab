import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { withClient } from './postgres.ts';
import type { Store } from './quire.ts';

/**
 * Fills a catalog with `count` more files directly in the database (not through HTTP), after Quire created the
 * schema (columns as in src/storage/sql/schema.ts). Every seeded file gets a version 1 pointing at the blob of one
 * real file (same key, size and SHA-256), so each one is a file Quire can serve. Ids are random (24 hex digits,
 * as Quire's own) and names are `seed-<id>.docx`; rows go in in id order, so every index is filled in order: as
 * fast as a bulk load gets (about 10 s for a million files here). Returns the id of the seeded file in the middle.
 */
export async function seed(store: Store, realFileId: string, count: number): Promise<string> {
  if (store.schema && store.backend.name === 'PostgreSQL') {
    return seedPostgres(store.backend.url, store.schema, realFileId, count);
  }
  return seedSqlite(join(store.dataDir, 'catalog.sqlite'), realFileId, count);
}

interface Template {
  blob_key: string;
  size: number | string;
  sha256: string;
}

const FILES = `(id, name, name_key, owner_id, created_at, version)`;
const VERSIONS = `(file_id, version, blob_key, size, sha256, created_at, author_id, source)`;

function seedSqlite(path: string, realFileId: string, count: number): string {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 10000');
    // a big page cache for the load (this connection only)
    db.pragma('cache_size = -262144');
    const t = db
      .prepare('SELECT blob_key, size, sha256 FROM versions WHERE file_id = ? AND version = 1')
      .get(realFileId) as Template | undefined;
    if (!t) throw new Error(`no version 1 for ${realFileId}`);
    db.prepare(
      `CREATE TEMP TABLE seed_ids AS
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       SELECT lower(hex(randomblob(12))) AS id FROM n ORDER BY 1`,
    ).run(count);
    const now = Date.now();
    db.transaction(() => {
      db.prepare(
        `INSERT INTO files ${FILES}
         SELECT id, 'seed-' || id || '.docx', 'seed-' || id || '.docx', 'bench', ?, 1 FROM seed_ids ORDER BY id`,
      ).run(now);
      db.prepare(
        `INSERT INTO versions ${VERSIONS}
         SELECT id, 1, ?, ?, ?, ?, 'bench', 'import' FROM seed_ids ORDER BY id`,
      ).run(t.blob_key, t.size, t.sha256, now);
    })();
    const middle = db.prepare('SELECT id FROM seed_ids ORDER BY id LIMIT 1 OFFSET ?').get(Math.floor(count / 2)) as {
      id: string;
    };
    // fold the WAL back into the database, as a long-running server's checkpoints would have
    db.pragma('wal_checkpoint(TRUNCATE)');
    return middle.id;
  } finally {
    db.close();
  }
}

async function seedPostgres(url: string, schema: string, realFileId: string, count: number): Promise<string> {
  const s = pg.escapeIdentifier(schema);
  return withClient(url, async (c) => {
    const { rows } = await c.query<Template>(
      `SELECT blob_key, size, sha256 FROM ${s}.versions WHERE file_id = $1 AND version = 1`,
      [realFileId],
    );
    const t = rows[0];
    if (!t) throw new Error(`no version 1 for ${realFileId}`);
    await c.query(
      `CREATE TEMP TABLE seed_ids AS
       SELECT substr(md5(random()::text || i::text), 1, 24) AS id FROM generate_series(1, $1::int) AS i ORDER BY 1`,
      [count],
    );
    const now = Date.now();
    await c.query('BEGIN');
    // The foreign key from versions to files would be checked (and the file row share-locked) once per row: the
    // seeded rows are consistent by construction, so a superuser loads them as a replica does, without that check.
    await c.query('SAVEPOINT replica');
    await c.query('SET LOCAL session_replication_role = replica').catch(() => c.query('ROLLBACK TO SAVEPOINT replica'));
    await c.query(
      `INSERT INTO ${s}.files ${FILES}
       SELECT id, 'seed-' || id || '.docx', 'seed-' || id || '.docx', 'bench', $1, 1 FROM seed_ids ORDER BY id`,
      [now],
    );
    await c.query(
      `INSERT INTO ${s}.versions ${VERSIONS}
       SELECT id, 1, $1, $2, $3, $4, 'bench', 'import' FROM seed_ids ORDER BY id`,
      [t.blob_key, t.size, t.sha256, now],
    );
    await c.query('COMMIT');
    const middle = await c.query<{ id: string }>('SELECT id FROM seed_ids ORDER BY id LIMIT 1 OFFSET $1', [
      Math.floor(count / 2),
    ]);
    // the state autovacuum reaches soon after a bulk load: statistics and visibility map up to date
    await c.query(`VACUUM ANALYZE ${s}.files, ${s}.versions`);
    return middle.rows[0]?.id as string;
  });
}
