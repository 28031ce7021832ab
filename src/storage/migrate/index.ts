import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FsBlobStore } from '../fs-blobs.ts';
import type { PgDatabase } from '../postgres/database.ts';
import { openPostgresDatabase } from '../postgres/index.ts';
import type { S3BlobOptions } from '../s3/client.ts';
import { SCHEMA_VERSION } from '../sql/schema.ts';
import { CatalogSnapshot } from '../sqlite/snapshot.ts';
import type { BlobStore } from '../types.ts';
import { type BlobCopyResult, checkPresent, copyBlobs, type VerifiedBlobs } from './blobs.ts';
import { checkSameShape, copyRows, ensureBookkeeping, tablesToCopy, tablesWithRows } from './catalog.ts';
import { MigrationError } from './errors.ts';

export { formatBytes } from './blobs.ts';
export { MigrationError } from './errors.ts';

/**
 * `quire migrate`: an embedded data dir (SQLite catalog + blobs on disk) moved to PostgreSQL, an S3 bucket, or both.
 *
 * The source is never written: the catalog is read from a snapshot (sqlite/snapshot.ts), the blobs through the file
 * store's reads. The order makes an interrupted run harmless and a re-run complete:
 *
 *   1. the target database is brought to this Quire's schema and claimed: it records which data dir it is filled
 *      from, and a target that holds another's data (or any data that came from no migration) is refused;
 *   2. the blobs are copied to the bucket, each read back and hashed; each verified blob is recorded in the target
 *      database, so a re-run skips it (one the bucket holds but no record names is read back before it counts);
 *   3. the catalog is copied in one transaction that also marks the migration finished: a killed run leaves no
 *      rows, and the catalog appears only once every blob it names is in place.
 *
 * A finished migration is not run again over the same database: Quire may have written to it since.
 */
export interface MigrateOptions {
  /** The embedded store's data dir (its catalog.sqlite and blobs/). */
  dataDir: string;
  /** postgres://… : where the catalog goes (schema as Quire picks it: ?options=-c search_path=…); absent: it stays. */
  databaseUrl?: string;
  /** The bucket the blobs go to; absent: they stay where they are (DATA/blobs, which Quire on PostgreSQL reads). */
  blobs?: S3BlobOptions;
  /**
   * Copy even though the catalog is open (a Quire serving it, or one that was killed): it is read as of one moment,
   * and what Quire writes after that is not in the target.
   */
  live?: boolean;
  /** Told each line of progress. */
  progress?: (line: string) => void;
}

export interface MigrationSummary {
  /** Which data dir this was (host and path): what the target records. */
  source: string;
  /** Rows copied per table, in the order copied; empty when the catalog stays. */
  tables: Array<{ name: string; rows: number }>;
  /** Blobs the catalog references; `moved` false when they stayed where they were (checked present, not copied). */
  blobs: BlobCopyResult & { moved: boolean };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** What the target database remembers of migrations into it. */
interface MigrationRow {
  source: string;
  started_at: string | number;
  finished_at: string | number | null;
}

/** The URL with its password taken out, for messages. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the PostgreSQL database';
  }
}

export const describeBucket = (o: S3BlobOptions) =>
  `s3://${o.bucket}/${o.prefix ?? ''}${o.endpoint ? ` at ${o.endpoint}` : ''}`;

export async function migrateEmbeddedStore(options: MigrateOptions): Promise<MigrationSummary> {
  const say = options.progress ?? (() => {});
  if (!options.databaseUrl && !options.blobs) {
    throw new MigrationError('nothing to migrate to: give a PostgreSQL database, a bucket, or both');
  }
  const dataDir = resolve(options.dataDir);
  const catalogPath = join(dataDir, 'catalog.sqlite');
  if (!(await exists(catalogPath))) throw new MigrationError(`no Quire catalog at ${catalogPath}`);
  const log = `${catalogPath}-wal`;
  const open = await exists(log);
  if (open && !options.live) {
    throw new MigrationError(
      `${log} exists: a Quire has this data dir open (serve, or a command), or one was killed. Stop it and run ` +
        'again; what Quire writes after the copy would not be in the target. If none is running (one was killed), ' +
        'or to copy while it serves and accept that, add --live.',
    );
  }
  if (open) say('Warning: the catalog is open (--live): what Quire writes after this moment is not copied.');
  const snapshot = await CatalogSnapshot.take(catalogPath, { open });
  try {
    if (!open && (await exists(log))) {
      throw new MigrationError(`a Quire opened ${catalogPath} while it was being read: stop it and run again`);
    }
    const version = snapshot.schemaVersion();
    if (version !== SCHEMA_VERSION) {
      throw new MigrationError(
        `the catalog is at schema ${version ?? 'unnumbered'}, this Quire's is ${SCHEMA_VERSION}: ` +
          (version !== null && version > SCHEMA_VERSION
            ? 'migrate with the newer Quire that wrote it'
            : 'run this Quire on the data dir once (quire serve, then stop it) so it brings the catalog up to date'),
      );
    }
    const source = `${hostname()}:${dataDir}`;
    const tables = tablesToCopy(snapshot);
    const keys = [
      ...new Set(
        tables.filter((t) => t.columns.includes('blob_key')).flatMap((t) => snapshot.distinct(t.name, 'blob_key')),
      ),
    ].sort();
    const sourceBlobs = new FsBlobStore(join(dataDir, 'blobs'));
    const sourceName = join(dataDir, 'blobs');
    say(
      `Migrating ${dataDir} (schema ${version}, ${tables.length} tables, ${keys.length} blobs)` +
        `${options.databaseUrl ? ` → catalog to ${describeDatabase(options.databaseUrl)}` : ''}` +
        `${options.blobs ? ` → blobs to ${describeBucket(options.blobs)}` : ''}`,
    );
    const db = options.databaseUrl
      ? await openPostgresDatabase({ connectionString: options.databaseUrl, maxConnections: 2 })
      : undefined;
    let bucket: (BlobStore & { close(): void }) | undefined;
    try {
      const where = db && `schema ${db.schema} of ${describeDatabase(options.databaseUrl as string)}`;
      let resuming = false;
      if (db) {
        await checkSameShape(db, db.schema, tables);
        resuming = await claim(db, source, tables, where as string);
        if (resuming) say(`Resuming an unfinished migration from ${source}`);
      }
      let blobs: MigrationSummary['blobs'];
      if (options.blobs) {
        const { openS3BlobStore } = await import('../s3/index.ts');
        bucket = await openS3BlobStore(options.blobs);
        const targetName = describeBucket(options.blobs);
        const present = new Map<string, number>();
        for await (const entry of bucket.list()) present.set(entry.key, entry.size);
        const referenced = new Set(keys);
        const foreign = [...present.keys()].filter((k) => !referenced.has(k));
        if (foreign.length && !resuming) {
          throw new MigrationError(
            `${targetName} holds ${foreign.length} blob(s) this data dir's catalog does not reference (${foreign[0]}…): ` +
              "another Quire's? Quire's collection would remove them there. Use an empty bucket or prefix.",
          );
        }
        const verified = db && (await verifiedBlobs(db, targetName));
        blobs = {
          moved: true,
          ...(await copyBlobs({
            source: sourceBlobs,
            sourceName,
            target: bucket,
            targetName,
            keys,
            present,
            ...(verified && { verified }),
            progress: say,
          })),
        };
      } else {
        await checkPresent(sourceBlobs, keys, sourceName);
        blobs = { moved: false, count: keys.length, bytes: 0, copied: 0, alreadyThere: keys.length };
        say(`blobs: all ${keys.length} present in ${sourceName}; they stay there`);
      }
      const copied = db ? await copyCatalog(db, snapshot, tables, source, where as string, say) : [];
      return { source, tables: copied, blobs };
    } finally {
      bucket?.close();
      await db?.close();
    }
  } finally {
    await snapshot.close();
  }
}

/** Serializes migrations into one schema (a second run waits for the first's step, then sees what it did). */
const lockMigration = (tx: { all(sql: string, p?: unknown[]): Promise<unknown[]> }, schema: string) =>
  tx.all('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`quire:migrate:${schema}`]);

/**
 * Claims the target for `source`: true when an unfinished migration from it is there to resume. Refuses a target
 * that another data dir's migration filled, one whose migration finished, and one with rows from no migration.
 */
async function claim(
  db: PgDatabase,
  source: string,
  tables: ReturnType<typeof tablesToCopy>,
  where: string,
): Promise<boolean> {
  await ensureBookkeeping(db);
  const t = (name: string) => db.dialect.table(name);
  return db.transaction(async (tx) => {
    await lockMigration(tx, db.schema);
    const [row] = await tx.all<MigrationRow>(`SELECT source, started_at, finished_at FROM ${t('migration_source')}`);
    if (row && row.source !== source) {
      throw new MigrationError(
        `${where} holds data migrated from ${row.source}, not from ${source}: refusing to mix two Quires' data`,
      );
    }
    if (row && row.finished_at !== null) {
      throw new MigrationError(
        `${where} already holds a finished migration from ${source} (${new Date(Number(row.finished_at)).toISOString()}); ` +
          'Quire may have written to it since, so it is not overwritten. To migrate again, drop the schema first.',
      );
    }
    if (row) return true;
    const filled = await tablesWithRows(tx, tables, t);
    if (filled.length) {
      throw new MigrationError(
        `${where} is not empty (${filled.join(', ')} hold rows) and no migration from this data dir made it: ` +
          "refusing to mix two Quires' data. Migrate into an empty database or schema.",
      );
    }
    await tx.run(`INSERT INTO ${t('migration_source')} (source, started_at) VALUES ($1, $2)`, [source, Date.now()]);
    return false;
  });
}

/** The blobs earlier runs copied to `target` and verified. */
async function verifiedBlobs(db: PgDatabase, target: string): Promise<VerifiedBlobs> {
  const t = db.dialect.table('migration_blobs');
  const rows = await db.all<{ key: string }>(`SELECT key FROM ${t} WHERE target = $1`, [target]);
  const known = new Set(rows.map((r) => r.key));
  return {
    has: (key) => known.has(key),
    async record(key, size) {
      await db.run(
        `INSERT INTO ${t} (target, key, size, verified_at) VALUES ($1, $2, $3, $4) ON CONFLICT (target, key) DO NOTHING`,
        [target, key, size, Date.now()],
      );
      known.add(key);
    },
  };
}

/** Every row, in one transaction that also marks the migration finished and drops the blob records. */
async function copyCatalog(
  db: PgDatabase,
  snapshot: CatalogSnapshot,
  tables: ReturnType<typeof tablesToCopy>,
  source: string,
  where: string,
  say: (line: string) => void,
): Promise<Array<{ name: string; rows: number }>> {
  const t = (name: string) => db.dialect.table(name);
  const counts = await db.transaction(async (tx) => {
    await lockMigration(tx, db.schema);
    const [row] = await tx.all<MigrationRow>(`SELECT source, started_at, finished_at FROM ${t('migration_source')}`);
    if (row?.source !== source || row.finished_at !== null) {
      throw new MigrationError(`${where} changed hands while the blobs were copied: run again`);
    }
    const filled = await tablesWithRows(tx, tables, t);
    if (filled.length) {
      throw new MigrationError(
        `${where} gained rows (${filled.join(', ')}) while the blobs were copied: is a Quire running on it? Stop it, drop the schema and run again`,
      );
    }
    const copied = await copyRows(tx, { schema: db.schema, table: t }, snapshot, tables, say);
    await tx.run(`UPDATE ${t('migration_source')} SET finished_at = $1`, [Date.now()]);
    await tx.run(`DROP TABLE ${t('migration_blobs')}`);
    return copied;
  });
  const rows = counts.reduce((n, c) => n + c.rows, 0);
  say(`catalog: ${counts.length} tables, ${rows} rows copied`);
  return counts;
}
