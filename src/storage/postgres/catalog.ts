import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { nameKey } from '../name-key.ts';
import {
  type Catalog,
  type CreatedFile,
  FileNotFoundError,
  type FileRecord,
  type FileState,
  type Guard,
  type LockRecord,
  type LockStore,
  NameTakenError,
  type NewVersion,
  type VersionRecord,
  type VersionSource,
} from '../types.ts';

/** Something that runs a query: the pool (one statement) or a client inside a transaction. */
type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** The SQLite catalog's tables, with BIGINT for times and sizes and real booleans for the save flags. */
const schemaSql = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.files (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  name_key    TEXT NOT NULL,
  owner_id    TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  version     INTEGER NOT NULL,
  deleted_at  BIGINT
);
CREATE UNIQUE INDEX IF NOT EXISTS files_live_name ON ${s}.files (name_key) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS ${s}.versions (
  file_id          TEXT NOT NULL REFERENCES ${s}.files(id),
  version          INTEGER NOT NULL,
  blob_key         TEXT NOT NULL,
  size             BIGINT NOT NULL,
  sha256           TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  author_id        TEXT NOT NULL,
  editors          TEXT,
  modified_by_user BOOLEAN,
  autosave         BOOLEAN,
  exit_save        BOOLEAN,
  file_conversion  BOOLEAN,
  source           TEXT NOT NULL,
  PRIMARY KEY (file_id, version)
);
CREATE TABLE IF NOT EXISTS ${s}.locks (
  file_id     TEXT PRIMARY KEY REFERENCES ${s}.files(id),
  value       TEXT NOT NULL,
  expires_at  BIGINT NOT NULL
);
-- UTF-8 bytes rather than TEXT: PutUserInfo bodies may hold U+0000, which PostgreSQL text cannot.
CREATE TABLE IF NOT EXISTS ${s}.user_info (
  file_id  TEXT NOT NULL REFERENCES ${s}.files(id),
  user_id  TEXT NOT NULL,
  info     BYTEA NOT NULL,
  PRIMARY KEY (file_id, user_id)
);
`;

/** BIGINT arrives as a string (it may exceed 2^53); ours are milliseconds and byte counts, well below. */
type Int8 = string | number;

interface FileRow {
  id: string;
  name: string;
  owner_id: string;
  created_at: Int8;
  version: number;
  size: Int8;
  sha256: string;
  blob_key: string;
  modified_at: Int8;
  modified_by: string;
  lock_value: string | null;
  lock_expires_at: Int8 | null;
}

interface VersionRow {
  file_id: string;
  version: number;
  blob_key: string;
  size: Int8;
  sha256: string;
  created_at: Int8;
  author_id: string;
  editors: string | null;
  modified_by_user: boolean | null;
  autosave: boolean | null;
  exit_save: boolean | null;
  file_conversion: boolean | null;
  source: string;
}

const toFile = (r: FileRow): FileRecord => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  createdAt: Number(r.created_at),
  version: r.version,
  size: Number(r.size),
  sha256: r.sha256,
  blobKey: r.blob_key,
  modifiedAt: Number(r.modified_at),
  modifiedBy: r.modified_by,
});

const toState = (r: FileRow, now: number): FileState => {
  const expiresAt = r.lock_expires_at === null ? null : Number(r.lock_expires_at);
  return {
    file: toFile(r),
    lock: r.lock_value !== null && expiresAt !== null && expiresAt > now ? { value: r.lock_value, expiresAt } : null,
  };
};

const toVersion = (r: VersionRow): VersionRecord => ({
  fileId: r.file_id,
  version: r.version,
  size: Number(r.size),
  sha256: r.sha256,
  blobKey: r.blob_key,
  createdAt: Number(r.created_at),
  authorId: r.author_id,
  ...(r.editors !== null && { editors: r.editors }),
  ...(r.modified_by_user !== null && { modifiedByUser: r.modified_by_user }),
  ...(r.autosave !== null && { autosave: r.autosave }),
  ...(r.exit_save !== null && { exitSave: r.exit_save }),
  ...(r.file_conversion !== null && { fileConversion: r.file_conversion }),
  source: r.source as VersionSource,
});

/**
 * PostgreSQL text cannot hold U+0000, and asking for it is an error rather than "no rows": a key containing it
 * (an id from a hostile URL, say) names nothing, so lookups answer "not found" without asking.
 */
const storable = (key: string) => !key.includes('\u0000');

const newFileId = () => randomBytes(12).toString('hex');

/** A schema name as a quoted identifier; anything else is refused rather than escaped into SQL. */
export function schemaIdentifier(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    throw new Error(`not a usable PostgreSQL schema name: ${JSON.stringify(schema)}`);
  }
  return pg.escapeIdentifier(schema);
}

/**
 * Runs `fn` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws, and
 * the error it threw (a guard's WopiError, say) is rethrown unchanged.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is in an unknown state: the pool must discard it, not hand it out again.
      broken = rollbackError as Error;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The catalog and lock store for several Quire instances sharing one PostgreSQL database. Every change is one
 * transaction that first locks the file's row (SELECT … FOR UPDATE), so a guard's check and the write it allows see
 * the same state across instances; name claims are serialized by a transaction-scoped advisory lock per schema,
 * taken before any row lock so the two never wait on each other in opposite orders.
 */
export class PgCatalog implements Catalog, LockStore {
  private readonly sql;
  /** Key of the advisory lock that serializes name claims in this schema (other schemas have their own). */
  private readonly namesLockKey: string;

  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    const s = schemaIdentifier(schema);
    this.namesLockKey = `quire:names:${schema}`;
    const fileSelect = `
      SELECT f.id, f.name, f.owner_id, f.created_at, f.version,
             v.size, v.sha256, v.blob_key, v.created_at AS modified_at, v.author_id AS modified_by,
             l.value AS lock_value, l.expires_at AS lock_expires_at
      FROM ${s}.files f
      JOIN ${s}.versions v ON v.file_id = f.id AND v.version = f.version
      LEFT JOIN ${s}.locks l ON l.file_id = f.id
      WHERE f.deleted_at IS NULL`;
    this.sql = {
      schema: schemaSql(s),
      fileById: `${fileSelect} AND f.id = $1`,
      fileByName: `${fileSelect} AND f.name_key = $1`,
      // "C": byte order, as SQLite's BINARY collation sorts
      allFiles: `${fileSelect} ORDER BY f.name_key COLLATE "C"`,
      // Only the files row is locked: joining in the same statement would make a row whose head moved meanwhile
      // fail the join on re-check and look deleted. The state is read by the next statement, after the wait.
      lockFile: `SELECT id FROM ${s}.files WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
      lockNames: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
      nameTaken: `SELECT id FROM ${s}.files WHERE name_key = $1 AND deleted_at IS NULL`,
      setLock: `INSERT INTO ${s}.locks (file_id, value, expires_at) VALUES ($1, $2, $3)
                ON CONFLICT (file_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      clearLock: `DELETE FROM ${s}.locks WHERE file_id = $1`,
      insertFile: `INSERT INTO ${s}.files (id, name, name_key, owner_id, created_at, version)
                   VALUES ($1, $2, $3, $4, $5, $6)`,
      insertVersion: `INSERT INTO ${s}.versions (file_id, version, blob_key, size, sha256, created_at, author_id,
                        editors, modified_by_user, autosave, exit_save, file_conversion, source)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      moveHead: `UPDATE ${s}.files SET version = $1 WHERE id = $2`,
      rename: `UPDATE ${s}.files SET name = $1, name_key = $2 WHERE id = $3`,
      markDeleted: `UPDATE ${s}.files SET deleted_at = $1 WHERE id = $2`,
      versions: `SELECT * FROM ${s}.versions WHERE file_id = $1 ORDER BY version DESC`,
      version: `SELECT * FROM ${s}.versions WHERE file_id = $1 AND version = $2`,
      userInfo: `SELECT info FROM ${s}.user_info WHERE file_id = $1 AND user_id = $2`,
      setUserInfo: `INSERT INTO ${s}.user_info (file_id, user_id, info) VALUES ($1, $2, $3)
                    ON CONFLICT (file_id, user_id) DO UPDATE SET info = excluded.info`,
    };
  }

  /**
   * Creates the tables when missing. `CREATE … IF NOT EXISTS` is not safe against itself running in another
   * session at the same moment: call it where that is serialized (`openPostgresStorage` does).
   */
  async init(q: Queryable = this.pool): Promise<this> {
    await q.query(this.sql.schema);
    return this;
  }

  private async stateOf(q: Queryable, id: string, now: number): Promise<FileState | null> {
    if (!storable(id)) return null;
    const { rows } = await q.query<FileRow>(this.sql.fileById, [id]);
    return rows[0] ? toState(rows[0], now) : null;
  }

  /** Locks the file's row until the transaction ends, then reads its state (null when there is no such file). */
  private async lockedState(c: pg.PoolClient, id: string, now: number): Promise<FileState | null> {
    if (!storable(id)) return null;
    const { rowCount } = await c.query(this.sql.lockFile, [id]);
    return rowCount ? this.stateOf(c, id, now) : null;
  }

  private async requireLockedState(c: pg.PoolClient, id: string, now: number): Promise<FileState> {
    const state = await this.lockedState(c, id, now);
    if (!state) throw new FileNotFoundError(id);
    return state;
  }

  private async lockNames(c: pg.PoolClient): Promise<void> {
    await c.query(this.sql.lockNames, [this.namesLockKey]);
  }

  private async fileRecord(q: Queryable, id: string): Promise<FileRecord> {
    const { rows } = await q.query<FileRow>(this.sql.fileById, [id]);
    if (!rows[0]) throw new FileNotFoundError(id);
    return toFile(rows[0]);
  }

  private async addVersion(c: pg.PoolClient, fileId: string, number: number, input: NewVersion, at: number) {
    const f = input.flags ?? {};
    await c.query(this.sql.insertVersion, [
      fileId,
      number,
      input.blob.key,
      input.blob.size,
      input.blob.sha256,
      at,
      input.authorId,
      input.editors ?? null,
      f.modifiedByUser ?? null,
      f.autosave ?? null,
      f.exitSave ?? null,
      f.fileConversion ?? null,
      input.source,
    ]);
  }

  /** The first of `names` no other live file holds. Call with the names lock held. */
  private async firstFreeName(c: pg.PoolClient, names: Iterable<string>, exceptId?: string): Promise<string> {
    let last = '';
    for (const name of names) {
      const key = nameKey(name);
      // A name PostgreSQL cannot store cannot be claimed; NameError checks keep such names from getting here.
      if (storable(key)) {
        const { rows } = await c.query<{ id: string }>(this.sql.nameTaken, [key]);
        if (!rows[0] || rows[0].id === exceptId) return name;
      }
      last = name;
    }
    throw new NameTakenError(last);
  }

  private async insertNewFile(
    c: pg.PoolClient,
    name: string,
    ownerId: string,
    version: NewVersion,
    now: number,
  ): Promise<FileRecord> {
    const id = newFileId();
    await c.query(this.sql.insertFile, [id, name, nameKey(name), ownerId, now, 1]);
    await this.addVersion(c, id, 1, version, now);
    return this.fileRecord(c, id);
  }

  private async commitOn(c: pg.PoolClient, state: FileState, version: NewVersion, now: number): Promise<FileRecord> {
    const { file } = state;
    // LastModifiedTime must differ between versions even when two saves land in the same millisecond.
    const at = Math.max(now, file.modifiedAt + 1);
    await this.addVersion(c, file.id, file.version + 1, version, at);
    await c.query(this.sql.moveHead, [file.version + 1, file.id]);
    return this.fileRecord(c, file.id);
  }

  async getFile(id: string): Promise<FileRecord | null> {
    return (await this.stateOf(this.pool, id, 0))?.file ?? null;
  }

  async getState(id: string, now: number): Promise<FileState | null> {
    return this.stateOf(this.pool, id, now);
  }

  async findByName(name: string): Promise<FileRecord | null> {
    const key = nameKey(name);
    if (!storable(key)) return null;
    const { rows } = await this.pool.query<FileRow>(this.sql.fileByName, [key]);
    return rows[0] ? toFile(rows[0]) : null;
  }

  async listFiles(): Promise<FileRecord[]> {
    const { rows } = await this.pool.query<FileRow>(this.sql.allFiles);
    return rows.map(toFile);
  }

  async listStates(now: number): Promise<FileState[]> {
    const { rows } = await this.pool.query<FileRow>(this.sql.allFiles);
    return rows.map((r) => toState(r, now));
  }

  async getVersion(id: string, version: number): Promise<VersionRecord | null> {
    if (!storable(id) || !Number.isSafeInteger(version) || Math.abs(version) > 2 ** 31 - 1) return null;
    const { rows } = await this.pool.query<VersionRow>(this.sql.version, [id, version]);
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async listVersions(id: string): Promise<VersionRecord[]> {
    if (!storable(id)) return [];
    const { rows } = await this.pool.query<VersionRow>(this.sql.versions, [id]);
    return rows.map(toVersion);
  }

  async createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
  }): Promise<FileRecord> {
    return inTransaction(this.pool, async (c) => {
      await this.lockNames(c);
      const name = await this.firstFreeName(c, input.names);
      return this.insertNewFile(c, name, input.ownerId, input.version, input.now);
    });
  }

  async replaceByName(input: {
    name: string;
    ownerId: string;
    version: NewVersion;
    now: number;
    guard: Guard;
  }): Promise<CreatedFile> {
    return inTransaction(this.pool, async (c) => {
      await this.lockNames(c);
      const key = nameKey(input.name);
      if (!storable(key)) throw new NameTakenError(input.name);
      const { rows } = await c.query<{ id: string }>(this.sql.nameTaken, [key]);
      // With the names lock held nobody can rename the holder away; it may still be deleted before its row is
      // locked, which leaves the name free.
      const state = rows[0] ? await this.lockedState(c, rows[0].id, input.now) : null;
      if (!state) {
        return {
          file: await this.insertNewFile(c, input.name, input.ownerId, input.version, input.now),
          replaced: false,
        };
      }
      input.guard(state);
      return { file: await this.commitOn(c, state, input.version, input.now), replaced: true };
    });
  }

  async commitVersion(id: string, version: NewVersion, now: number, guard: Guard): Promise<FileRecord> {
    return inTransaction(this.pool, async (c) => {
      const state = await this.requireLockedState(c, id, now);
      guard(state);
      return this.commitOn(c, state, version, now);
    });
  }

  async renameFile(id: string, names: Iterable<string>, now: number, guard: Guard): Promise<FileRecord> {
    return inTransaction(this.pool, async (c) => {
      await this.lockNames(c);
      const state = await this.requireLockedState(c, id, now);
      guard(state);
      const name = await this.firstFreeName(c, names, id);
      await c.query(this.sql.rename, [name, nameKey(name), id]);
      return this.fileRecord(c, id);
    });
  }

  async deleteFile(id: string, now: number, guard: Guard): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      guard(await this.requireLockedState(c, id, now));
      await c.query(this.sql.clearLock, [id]);
      await c.query(this.sql.markDeleted, [now, id]);
    });
  }

  async getUserInfo(fileId: string, userId: string): Promise<string | null> {
    if (!storable(fileId) || !storable(userId)) return null;
    const { rows } = await this.pool.query<{ info: Buffer }>(this.sql.userInfo, [fileId, userId]);
    return rows[0] ? rows[0].info.toString('utf8') : null;
  }

  async setUserInfo(fileId: string, userId: string, info: string): Promise<void> {
    if (!storable(fileId)) throw new FileNotFoundError(fileId);
    await this.pool.query(this.sql.setUserInfo, [fileId, userId, Buffer.from(info, 'utf8')]);
  }

  async get(fileId: string, now: number): Promise<LockRecord | null> {
    return (await this.stateOf(this.pool, fileId, now))?.lock ?? null;
  }

  async update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
  ): Promise<FileState> {
    return inTransaction(this.pool, async (c) => {
      const state = await this.requireLockedState(c, fileId, now);
      const next = decide(state.lock, state.file);
      if (next) await c.query(this.sql.setLock, [fileId, next.value, next.expiresAt]);
      else await c.query(this.sql.clearLock, [fileId]);
      return { file: state.file, lock: next };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
