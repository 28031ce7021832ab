import pg from 'pg';
import { FsBlobStore } from '../fs-blobs.ts';
import { migrate } from '../sql/schema.ts';
import { type SqlStorage, sqlStorage } from '../sql/storage.ts';
import type { BlobStore } from '../types.ts';
import { PgDatabase, schemaIdentifier } from './database.ts';

export { PgDatabase } from './database.ts';

export interface PostgresStorageOptions {
  /** postgres://user:password@host:5432/database (libpq-style parameters as `pg` reads them). */
  connectionString: string;
  /**
   * Where the tables live; created when missing. Default: the first schema of the connection's search_path (set it
   * in the URL with `?options=-c%20search_path%3Dquire`), which is `public` unless configured otherwise.
   */
  schema?: string;
  /**
   * Where the bytes live (content-addressed files). PostgreSQL holds only the catalog, locks and users: several
   * instances sharing one database must also share this directory (the same shared filesystem, NFS or the like),
   * or one instance will hold a version whose bytes another cannot read.
   */
  blobDir: string;
  /** Keep the bytes here instead of in `blobDir` (an S3 bucket, which several instances share without more ado). */
  blobs?: BlobStore;
  /** Connections this instance may hold at once. Default 10. */
  maxConnections?: number;
}

export type PostgresStorage = SqlStorage<PgDatabase>;

/**
 * Catalog, locks and users in PostgreSQL (for several Quire instances behind one address), bytes in `blobDir`.
 * Creates the schema and its tables when missing.
 */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const db = await openPostgresDatabase(options);
  try {
    const blobs = options.blobs ?? (await new FsBlobStore(options.blobDir).init());
    return sqlStorage(db, blobs, `quire:names:${db.schema}`);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

/**
 * The database alone, its schema created when missing and brought to this Quire's schema number (what
 * openPostgresStorage opens, and what `quire migrate` copies an embedded catalog into).
 */
export async function openPostgresDatabase(
  options: Pick<PostgresStorageOptions, 'connectionString' | 'schema' | 'maxConnections'>,
): Promise<PgDatabase> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server drops (restart, failover) is reported here; the pool discards it and the next
  // query connects afresh, so this must not crash the process.
  pool.on('error', () => {});
  try {
    const schema = options.schema ?? (await searchPathSchema(pool));
    const ident = schemaIdentifier(schema);
    const db = new PgDatabase(pool, schema);
    await db.transaction(async (tx) => {
      // Instances starting together would race on CREATE … IF NOT EXISTS; this lock lines them up.
      await tx.all('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`quire:schema:${schema}`]);
      const found = await tx.all('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      // Only when missing: CREATE SCHEMA needs a privilege that using an existing one does not.
      if (found.length === 0) await tx.run(`CREATE SCHEMA ${ident}`);
      await migrate(tx, db.dialect);
    });
    return db;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}

/** The first named schema on the connection's search_path ("$user" skipped), or `public`. */
async function searchPathSchema(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ path: string }>("SELECT current_setting('search_path') AS path");
  for (const raw of (rows[0]?.path ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '' || entry === '"$user"' || entry === '$user') continue;
    // as PostgreSQL reads it: quoted keeps its case, unquoted folds to lower case
    return entry.startsWith('"') && entry.endsWith('"')
      ? entry.slice(1, -1).replaceAll('""', '"')
      : entry.toLowerCase();
  }
  return 'public';
}
