import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  name_key    TEXT NOT NULL,
  owner_id    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  deleted_at  INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS files_live_name ON files(name_key) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS versions (
  file_id          TEXT NOT NULL REFERENCES files(id),
  version          INTEGER NOT NULL,
  blob_key         TEXT NOT NULL,
  size             INTEGER NOT NULL,
  sha256           TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  author_id        TEXT NOT NULL,
  editors          TEXT,
  modified_by_user INTEGER,
  autosave         INTEGER,
  exit_save        INTEGER,
  file_conversion  INTEGER,
  source           TEXT NOT NULL,
  PRIMARY KEY (file_id, version)
);
CREATE TABLE IF NOT EXISTS locks (
  file_id     TEXT PRIMARY KEY REFERENCES files(id),
  value       TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_info (
  file_id  TEXT NOT NULL REFERENCES files(id),
  user_id  TEXT NOT NULL,
  info     TEXT NOT NULL,
  PRIMARY KEY (file_id, user_id)
);
`;

interface FileRow {
  id: string;
  name: string;
  owner_id: string;
  created_at: number;
  version: number;
  size: number;
  sha256: string;
  blob_key: string;
  modified_at: number;
  modified_by: string;
}

interface VersionRow {
  file_id: string;
  version: number;
  blob_key: string;
  size: number;
  sha256: string;
  created_at: number;
  author_id: string;
  editors: string | null;
  modified_by_user: number | null;
  autosave: number | null;
  exit_save: number | null;
  file_conversion: number | null;
  source: string;
}

const FILE_SELECT = `
  SELECT f.id, f.name, f.owner_id, f.created_at, f.version,
         v.size, v.sha256, v.blob_key, v.created_at AS modified_at, v.author_id AS modified_by
  FROM files f JOIN versions v ON v.file_id = f.id AND v.version = f.version
  WHERE f.deleted_at IS NULL`;

const toFile = (r: FileRow): FileRecord => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  createdAt: r.created_at,
  version: r.version,
  size: r.size,
  sha256: r.sha256,
  blobKey: r.blob_key,
  modifiedAt: r.modified_at,
  modifiedBy: r.modified_by,
});

const flag = (v: number | null): boolean | undefined => (v === null ? undefined : v === 1);
const bit = (v: boolean | undefined): number | null => (v === undefined ? null : v ? 1 : 0);

const toVersion = (r: VersionRow): VersionRecord => ({
  fileId: r.file_id,
  version: r.version,
  size: r.size,
  sha256: r.sha256,
  blobKey: r.blob_key,
  createdAt: r.created_at,
  authorId: r.author_id,
  ...(r.editors !== null && { editors: r.editors }),
  ...(r.modified_by_user !== null && { modifiedByUser: flag(r.modified_by_user) }),
  ...(r.autosave !== null && { autosave: flag(r.autosave) }),
  ...(r.exit_save !== null && { exitSave: flag(r.exit_save) }),
  ...(r.file_conversion !== null && { fileConversion: flag(r.file_conversion) }),
  source: r.source as VersionSource,
});

// hex: URL-safe, and never starts with "-" (so a CLI never mistakes an id for a flag)
const newFileId = () => randomBytes(12).toString('hex');

/**
 * The embedded catalog and lock store: one SQLite database (WAL) shared by the server and the CLI. Every change is
 * one IMMEDIATE transaction, so a guard's check and the write it allows see the same state, across processes too.
 */
export class SqliteCatalog implements Catalog, LockStore {
  readonly db: Database.Database;
  private readonly stmt;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      fileById: db.prepare<[string], FileRow>(`${FILE_SELECT} AND f.id = ?`),
      fileByName: db.prepare<[string], FileRow>(`${FILE_SELECT} AND f.name_key = ?`),
      allFiles: db.prepare<[], FileRow>(`${FILE_SELECT} ORDER BY f.name_key`),
      nameTaken: db.prepare<[string], { id: string }>('SELECT id FROM files WHERE name_key = ? AND deleted_at IS NULL'),
      lockOf: db.prepare<[string], { value: string; expires_at: number }>(
        'SELECT value, expires_at FROM locks WHERE file_id = ?',
      ),
      setLock: db.prepare(
        `INSERT INTO locks (file_id, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (file_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      ),
      clearLock: db.prepare('DELETE FROM locks WHERE file_id = ?'),
      insertFile: db.prepare(
        'INSERT INTO files (id, name, name_key, owner_id, created_at, version) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertVersion: db.prepare(
        `INSERT INTO versions (file_id, version, blob_key, size, sha256, created_at, author_id, editors,
           modified_by_user, autosave, exit_save, file_conversion, source)
         VALUES (@fileId, @version, @blobKey, @size, @sha256, @createdAt, @authorId, @editors,
           @modifiedByUser, @autosave, @exitSave, @fileConversion, @source)`,
      ),
      moveHead: db.prepare('UPDATE files SET version = ? WHERE id = ?'),
      rename: db.prepare('UPDATE files SET name = ?, name_key = ? WHERE id = ?'),
      markDeleted: db.prepare('UPDATE files SET deleted_at = ? WHERE id = ?'),
      versions: db.prepare<[string], VersionRow>('SELECT * FROM versions WHERE file_id = ? ORDER BY version DESC'),
      version: db.prepare<[string, number], VersionRow>('SELECT * FROM versions WHERE file_id = ? AND version = ?'),
      liveLocks: db.prepare<[number], { file_id: string; value: string; expires_at: number }>(
        'SELECT file_id, value, expires_at FROM locks WHERE expires_at > ?',
      ),
      userInfo: db.prepare<[string, string], { info: string }>(
        'SELECT info FROM user_info WHERE file_id = ? AND user_id = ?',
      ),
      setUserInfo: db.prepare(
        `INSERT INTO user_info (file_id, user_id, info) VALUES (?, ?, ?)
         ON CONFLICT (file_id, user_id) DO UPDATE SET info = excluded.info`,
      ),
    };
  }

  private immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private stateOf(id: string, now: number): FileState | null {
    const row = this.stmt.fileById.get(id);
    if (!row) return null;
    const lock = this.stmt.lockOf.get(id);
    return {
      file: toFile(row),
      lock: lock && lock.expires_at > now ? { value: lock.value, expiresAt: lock.expires_at } : null,
    };
  }

  private requireState(id: string, now: number): FileState {
    const state = this.stateOf(id, now);
    if (!state) throw new FileNotFoundError(id);
    return state;
  }

  private addVersion(fileId: string, number: number, input: NewVersion, at: number): void {
    const f = input.flags ?? {};
    this.stmt.insertVersion.run({
      fileId,
      version: number,
      blobKey: input.blob.key,
      size: input.blob.size,
      sha256: input.blob.sha256,
      createdAt: at,
      authorId: input.authorId,
      editors: input.editors ?? null,
      modifiedByUser: bit(f.modifiedByUser),
      autosave: bit(f.autosave),
      exitSave: bit(f.exitSave),
      fileConversion: bit(f.fileConversion),
      source: input.source,
    });
  }

  private firstFreeName(names: Iterable<string>, exceptId?: string): string {
    let last = '';
    for (const name of names) {
      const holder = this.stmt.nameTaken.get(nameKey(name));
      if (!holder || holder.id === exceptId) return name;
      last = name;
    }
    throw new NameTakenError(last);
  }

  private insertNewFile(name: string, ownerId: string, version: NewVersion, now: number): FileRecord {
    const id = newFileId();
    this.stmt.insertFile.run(id, name, nameKey(name), ownerId, now, 1);
    this.addVersion(id, 1, version, now);
    return toFile(this.stmt.fileById.get(id) as FileRow);
  }

  private commitOn(state: FileState, version: NewVersion, now: number): FileRecord {
    const { file } = state;
    // LastModifiedTime must differ between versions even when two saves land in the same millisecond.
    const at = Math.max(now, file.modifiedAt + 1);
    this.addVersion(file.id, file.version + 1, version, at);
    this.stmt.moveHead.run(file.version + 1, file.id);
    return toFile(this.stmt.fileById.get(file.id) as FileRow);
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const row = this.stmt.fileById.get(id);
    return row ? toFile(row) : null;
  }

  async getState(id: string, now: number): Promise<FileState | null> {
    return this.stateOf(id, now);
  }

  async findByName(name: string): Promise<FileRecord | null> {
    const row = this.stmt.fileByName.get(nameKey(name));
    return row ? toFile(row) : null;
  }

  async listFiles(): Promise<FileRecord[]> {
    return this.stmt.allFiles.all().map(toFile);
  }

  async listStates(now: number): Promise<FileState[]> {
    const locks = new Map(this.stmt.liveLocks.all(now).map((l) => [l.file_id, l]));
    return this.stmt.allFiles.all().map((row) => {
      const lock = locks.get(row.id);
      return { file: toFile(row), lock: lock ? { value: lock.value, expiresAt: lock.expires_at } : null };
    });
  }

  async getVersion(id: string, version: number): Promise<VersionRecord | null> {
    const row = this.stmt.version.get(id, version);
    return row ? toVersion(row) : null;
  }

  async listVersions(id: string): Promise<VersionRecord[]> {
    return this.stmt.versions.all(id).map(toVersion);
  }

  async createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
  }): Promise<FileRecord> {
    return this.immediate(() =>
      this.insertNewFile(this.firstFreeName(input.names), input.ownerId, input.version, input.now),
    );
  }

  async replaceByName(input: {
    name: string;
    ownerId: string;
    version: NewVersion;
    now: number;
    guard: Guard;
  }): Promise<CreatedFile> {
    return this.immediate(() => {
      const existing = this.stmt.nameTaken.get(nameKey(input.name));
      if (!existing) {
        return { file: this.insertNewFile(input.name, input.ownerId, input.version, input.now), replaced: false };
      }
      const state = this.requireState(existing.id, input.now);
      input.guard(state);
      return { file: this.commitOn(state, input.version, input.now), replaced: true };
    });
  }

  async commitVersion(id: string, version: NewVersion, now: number, guard: Guard): Promise<FileRecord> {
    return this.immediate(() => {
      const state = this.requireState(id, now);
      guard(state);
      return this.commitOn(state, version, now);
    });
  }

  async renameFile(id: string, names: Iterable<string>, now: number, guard: Guard): Promise<FileRecord> {
    return this.immediate(() => {
      const state = this.requireState(id, now);
      guard(state);
      const name = this.firstFreeName(names, id);
      this.stmt.rename.run(name, nameKey(name), id);
      return toFile(this.stmt.fileById.get(id) as FileRow);
    });
  }

  async deleteFile(id: string, now: number, guard: Guard): Promise<void> {
    this.immediate(() => {
      guard(this.requireState(id, now));
      this.stmt.clearLock.run(id);
      this.stmt.markDeleted.run(now, id);
    });
  }

  async getUserInfo(fileId: string, userId: string): Promise<string | null> {
    return this.stmt.userInfo.get(fileId, userId)?.info ?? null;
  }

  async setUserInfo(fileId: string, userId: string, info: string): Promise<void> {
    this.stmt.setUserInfo.run(fileId, userId, info);
  }

  async get(fileId: string, now: number): Promise<LockRecord | null> {
    return this.stateOf(fileId, now)?.lock ?? null;
  }

  async update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
  ): Promise<FileState> {
    return this.immediate(() => {
      const state = this.requireState(fileId, now);
      const next = decide(state.lock, state.file);
      if (next) this.stmt.setLock.run(fileId, next.value, next.expiresAt);
      else this.stmt.clearLock.run(fileId);
      return { file: state.file, lock: next };
    });
  }

  close(): void {
    this.db.close();
  }
}
