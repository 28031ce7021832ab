import { nameKey } from '../name-key.ts';
import { autosavesToThin, SESSION_GAP_MS } from '../thinning.ts';
import {
  type Catalog,
  type CreatedFile,
  type Describe,
  FileNotFoundError,
  type FileRecord,
  type FileState,
  type Guard,
  type LockRecord,
  type LockStore,
  NameTakenError,
  type NewRescuedSave,
  type NewVersion,
  type ReplaceByName,
  type RescuedSave,
  type ThinnedVersions,
  type VersionRecord,
} from '../types.ts';
import { type SqlDatabase, type SqlExecutor, storable } from './database.ts';
import { SqlEventLog } from './events.ts';
import {
  type FileRow,
  newFileId,
  type RescuedRow,
  toFile,
  toRescued,
  toState,
  toVersion,
  type VersionRow,
} from './rows.ts';

/** PostgreSQL's INTEGER; a larger version number names nothing. */
const MAX_INT4 = 2 ** 31 - 1;

/**
 * The catalog and lock store, written once over any SQL database. Every change is one transaction that first
 * locks the file (its row on PostgreSQL; SQLite's writer lock covers the whole database), then runs the caller's
 * guard against the state it read and makes the change: a lock check and the write it allows see the same state,
 * across instances too. Name claims are serialized by one more lock (an advisory one on PostgreSQL), always taken
 * before any row lock so two transactions never wait on each other in opposite orders.
 *
 * The protocol's invariants on versions live here, once: a file's version goes up by exactly one per content
 * change (so it never repeats), and LastModifiedTime strictly increases from one version to the next. A change's
 * event, when the caller describes one, is written in the same transaction.
 */
export class SqlCatalog implements Catalog, LockStore {
  private readonly sql;
  readonly events: SqlEventLog;

  constructor(
    readonly db: SqlDatabase,
    /** Names the lock that serializes name claims (one per schema, so separate schemas do not wait on each other). */
    private readonly namesLockKey = 'quire:names',
  ) {
    this.events = new SqlEventLog(db);
    const d = db.dialect;
    const [files, versions, locks, userInfo, rescued] = ['files', 'versions', 'locks', 'user_info', 'rescued'].map(
      (n) => d.table(n),
    );
    const fileSelect = `
      SELECT f.id, f.name, f.owner_id, f.created_at, f.version,
             v.size, v.sha256, v.blob_key, v.created_at AS modified_at, v.author_id AS modified_by,
             l.value AS lock_value, l.expires_at AS lock_expires_at,
             l.taken_at AS lock_taken_at, l.refreshed_at AS lock_refreshed_at
      FROM ${files} f
      JOIN ${versions} v ON v.file_id = f.id AND v.version = f.version
      LEFT JOIN ${locks} l ON l.file_id = f.id
      WHERE f.deleted_at IS NULL`;
    this.sql = {
      fileById: `${fileSelect} AND f.id = $1`,
      fileByName: `${fileSelect} AND f.name_key = $1`,
      allFiles: `${fileSelect} ORDER BY f.name_key${d.byteOrder}`,
      // Only the files row is locked: joining in the same statement would make a row whose head moved meanwhile
      // fail the join on re-check and look deleted. The state is read by the next statement, after the wait.
      lockFile: `SELECT id FROM ${files} WHERE id = $1 AND deleted_at IS NULL${d.forUpdate}`,
      nameHolder: `SELECT id FROM ${files} WHERE name_key = $1 AND deleted_at IS NULL`,
      setLock: `INSERT INTO ${locks} (file_id, value, expires_at, taken_at, refreshed_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (file_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
                  taken_at = excluded.taken_at, refreshed_at = excluded.refreshed_at`,
      // live locks with a recorded refresh, neither refreshed nor saved under since $2 (checked again per file)
      silentLocks: `SELECT l.file_id FROM ${locks} l
                    JOIN ${files} f ON f.id = l.file_id AND f.deleted_at IS NULL
                    JOIN ${versions} v ON v.file_id = f.id AND v.version = f.version
                    WHERE l.expires_at > $1 AND l.refreshed_at IS NOT NULL AND l.refreshed_at < $2
                      AND v.created_at < $2`,
      clearLock: `DELETE FROM ${locks} WHERE file_id = $1`,
      insertFile: `INSERT INTO ${files} (id, name, name_key, owner_id, created_at, version) VALUES ($1, $2, $3, $4, $5, 1)`,
      insertVersion: `INSERT INTO ${versions} (file_id, version, blob_key, size, sha256, created_at, author_id,
                        editors, modified_by_user, autosave, exit_save, file_conversion, source)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      moveHead: `UPDATE ${files} SET version = $1 WHERE id = $2`,
      rename: `UPDATE ${files} SET name = $1, name_key = $2 WHERE id = $3`,
      markDeleted: `UPDATE ${files} SET deleted_at = $1 WHERE id = $2`,
      versions: `SELECT * FROM ${versions} WHERE file_id = $1 ORDER BY version DESC`,
      version: `SELECT * FROM ${versions} WHERE file_id = $1 AND version = $2`,
      userInfo: `SELECT info FROM ${userInfo} WHERE file_id = $1 AND user_id = $2`,
      rescue: `INSERT INTO ${rescued} (file_id, blob_key, size, sha256, created_at, author_id, editors, modified_by_user,
                 autosave, exit_save, file_conversion, source, reason, lock_sent)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)${d.returningId}`,
      rescuedOf: `SELECT * FROM ${rescued} WHERE file_id = $1 ORDER BY id DESC`,
      rescuedOne: `SELECT * FROM ${rescued} WHERE file_id = $1 AND id = $2`,
      pruneRescued: `DELETE FROM ${rescued} WHERE created_at < $1`,
      setUserInfo: `INSERT INTO ${userInfo} (file_id, user_id, info) VALUES ($1, $2, $3)
                    ON CONFLICT (file_id, user_id) DO UPDATE SET info = excluded.info`,
      // Live files with an autosave created before $1 that the next version (by number) continues: an autosave too,
      // by the same author, within $2 ms. A superset of what autosavesToThin drops, which decides per file.
      thinCandidates: `SELECT DISTINCT v.file_id FROM ${versions} v
                       JOIN ${files} f ON f.id = v.file_id AND f.deleted_at IS NULL
                       JOIN ${versions} n ON n.file_id = v.file_id AND n.version = (
                         SELECT MIN(m.version) FROM ${versions} m WHERE m.file_id = v.file_id AND m.version > v.version)
                       WHERE v.autosave = TRUE AND v.created_at < $1 AND n.autosave = TRUE
                         AND n.author_id = v.author_id AND n.created_at - v.created_at <= $2`,
      dropVersion: `DELETE FROM ${versions} WHERE file_id = $1 AND version = $2`,
      referencedBlobs: `SELECT blob_key FROM ${versions} UNION SELECT blob_key FROM ${rescued}`,
    };
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  private async stateOf(q: SqlExecutor, id: string, now: number): Promise<FileState | null> {
    if (!storable(id)) return null;
    const [row] = await q.all<FileRow>(this.sql.fileById, [id]);
    return row ? toState(row, now) : null;
  }

  async getFile(id: string): Promise<FileRecord | null> {
    return (await this.stateOf(this.db, id, 0))?.file ?? null;
  }

  async getState(id: string, now: number): Promise<FileState | null> {
    return this.stateOf(this.db, id, now);
  }

  async findByName(name: string): Promise<FileRecord | null> {
    const key = nameKey(name);
    if (!storable(key)) return null;
    const [row] = await this.db.all<FileRow>(this.sql.fileByName, [key]);
    return row ? toFile(row) : null;
  }

  async listFiles(): Promise<FileRecord[]> {
    return (await this.db.all<FileRow>(this.sql.allFiles)).map(toFile);
  }

  async listStates(now: number): Promise<FileState[]> {
    return (await this.db.all<FileRow>(this.sql.allFiles)).map((r) => toState(r, now));
  }

  async getVersion(id: string, version: number): Promise<VersionRecord | null> {
    if (!storable(id) || !Number.isSafeInteger(version) || Math.abs(version) > MAX_INT4) return null;
    const [row] = await this.db.all<VersionRow>(this.sql.version, [id, version]);
    return row ? toVersion(row) : null;
  }

  async listVersions(id: string): Promise<VersionRecord[]> {
    if (!storable(id)) return [];
    return (await this.db.all<VersionRow>(this.sql.versions, [id])).map(toVersion);
  }

  async listRescued(fileId: string): Promise<RescuedSave[]> {
    if (!storable(fileId)) return [];
    return (await this.db.all<RescuedRow>(this.sql.rescuedOf, [fileId])).map(toRescued);
  }

  async getRescued(fileId: string, id: number): Promise<RescuedSave | null> {
    if (!storable(fileId) || !Number.isSafeInteger(id)) return null;
    const [row] = await this.db.all<RescuedRow>(this.sql.rescuedOne, [fileId, id]);
    return row ? toRescued(row) : null;
  }

  async getUserInfo(fileId: string, userId: string): Promise<string | null> {
    if (!storable(fileId) || !storable(userId)) return null;
    const [row] = await this.db.all<{ info: Buffer | string }>(this.sql.userInfo, [fileId, userId]);
    if (!row) return null;
    return typeof row.info === 'string' ? row.info : Buffer.from(row.info).toString('utf8');
  }

  async get(fileId: string, now: number): Promise<LockRecord | null> {
    return (await this.stateOf(this.db, fileId, now))?.lock ?? null;
  }

  // ---- the rules every change follows, inside its transaction ----------------------------------------------------

  /** Locks the file until the transaction ends, then reads its state. */
  private async lockedState(tx: SqlExecutor, id: string, now: number): Promise<FileState> {
    const locked = storable(id) && (await tx.all(this.sql.lockFile, [id])).length > 0;
    const state = locked ? await this.stateOf(tx, id, now) : null;
    if (!state) throw new FileNotFoundError(id);
    return state;
  }

  private async lockNames(tx: SqlExecutor): Promise<void> {
    const lock = this.db.dialect.lockKey;
    if (lock) await tx.all(lock, [this.namesLockKey]);
  }

  /** The first of `names` no other live file holds. Call with the names lock held. */
  private async firstFreeName(tx: SqlExecutor, names: Iterable<string>, exceptId?: string): Promise<string> {
    let last = '';
    for (const name of names) {
      const key = nameKey(name);
      // a name a backend cannot store cannot be claimed (name rules keep such names from getting here)
      if (storable(key)) {
        const [holder] = await tx.all<{ id: string }>(this.sql.nameHolder, [key]);
        if (!holder || holder.id === exceptId) return name;
      }
      last = name;
    }
    throw new NameTakenError(last);
  }

  private async fileRecord(tx: SqlExecutor, id: string): Promise<FileRecord> {
    const state = await this.stateOf(tx, id, 0);
    if (!state) throw new FileNotFoundError(id);
    return state.file;
  }

  private async addVersion(tx: SqlExecutor, fileId: string, number: number, input: NewVersion, at: number) {
    const f = input.flags ?? {};
    await tx.run(this.sql.insertVersion, [
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

  private async insertNewFile(tx: SqlExecutor, name: string, ownerId: string, version: NewVersion, now: number) {
    const id = newFileId();
    await tx.run(this.sql.insertFile, [id, name, nameKey(name), ownerId, now]);
    await this.addVersion(tx, id, 1, version, now);
    return this.fileRecord(tx, id);
  }

  /** The head moves to version + 1, dated at least 1 ms after the previous one. */
  private async commitOn(tx: SqlExecutor, { file }: FileState, version: NewVersion, now: number) {
    const at = Math.max(now, file.modifiedAt + 1);
    await this.addVersion(tx, file.id, file.version + 1, version, at);
    await tx.run(this.sql.moveHead, [file.version + 1, file.id]);
    return this.fileRecord(tx, file.id);
  }

  /**
   * Writes the event `describe` makes of `result`, if any, in the change's transaction, with its webhook deliveries
   * (the event log's `insert` writes the outbox too).
   */
  private async record<R>(tx: SqlExecutor, describe: Describe<R> | undefined, result: R, at: number): Promise<R> {
    const event = describe?.(result);
    if (event) await this.events.insert(tx, event, at);
    return result;
  }

  // ---- changes ---------------------------------------------------------------------------------------------------

  async createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
    event?: Describe<FileRecord>;
  }) {
    return this.db.transaction(async (tx) => {
      await this.lockNames(tx);
      const name = await this.firstFreeName(tx, input.names);
      const file = await this.insertNewFile(tx, name, input.ownerId, input.version, input.now);
      return this.record(tx, input.event, file, input.now);
    });
  }

  async replaceByName(input: ReplaceByName): Promise<CreatedFile> {
    return this.db.transaction(async (tx) => {
      await this.lockNames(tx);
      const key = nameKey(input.name);
      if (!storable(key)) throw new NameTakenError(input.name);
      const [holder] = await tx.all<{ id: string }>(this.sql.nameHolder, [key]);
      // With the names lock held nobody can rename the holder away; it may still be deleted before its row is
      // locked, which leaves the name free.
      const state = holder ? await this.lockedState(tx, holder.id, input.now).catch(notFoundAsNull) : null;
      let created: CreatedFile;
      if (!state) {
        const file = await this.insertNewFile(tx, input.name, input.ownerId, input.version, input.now);
        created = { file, replaced: false };
      } else {
        input.guard(state);
        created = { file: await this.commitOn(tx, state, input.version, input.now), replaced: true };
      }
      return this.record(tx, input.event, created, input.now);
    });
  }

  async commitVersion(
    id: string,
    version: NewVersion,
    now: number,
    guard: Guard,
    event?: Describe<FileRecord>,
  ): Promise<FileRecord> {
    return this.db.transaction(async (tx) => {
      const state = await this.lockedState(tx, id, now);
      guard(state);
      return this.record(tx, event, await this.commitOn(tx, state, version, now), now);
    });
  }

  async renameFile(
    id: string,
    names: Iterable<string>,
    now: number,
    guard: Guard,
    event?: Describe<{ before: FileRecord; after: FileRecord }>,
  ): Promise<FileRecord> {
    return this.db.transaction(async (tx) => {
      await this.lockNames(tx);
      const state = await this.lockedState(tx, id, now);
      guard(state);
      const name = await this.firstFreeName(tx, names, id);
      await tx.run(this.sql.rename, [name, nameKey(name), id]);
      const after = await this.fileRecord(tx, id);
      await this.record(tx, event, { before: state.file, after }, now);
      return after;
    });
  }

  async deleteFile(id: string, now: number, guard: Guard, event?: Describe<FileRecord>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const state = await this.lockedState(tx, id, now);
      guard(state);
      await tx.run(this.sql.clearLock, [id]);
      await tx.run(this.sql.markDeleted, [now, id]);
      await this.record(tx, event, state.file, now);
    });
  }

  async rescue(fileId: string, save: NewRescuedSave, now: number, event?: Describe<RescuedSave>): Promise<RescuedSave> {
    return this.db.transaction(async (tx) => {
      // the file must exist (a deleted one takes nothing); its lock and head are not touched
      const { file } = await this.lockedState(tx, fileId, now);
      const f = save.flags ?? {};
      const [row] = await tx.all<{ id: number | string }>(this.sql.rescue, [
        file.id,
        save.blob.key,
        save.blob.size,
        save.blob.sha256,
        now,
        save.authorId,
        save.editors ?? null,
        f.modifiedByUser ?? null,
        f.autosave ?? null,
        f.exitSave ?? null,
        f.fileConversion ?? null,
        save.source,
        save.reason,
        save.lock ?? null,
      ]);
      const [stored] = await tx.all<RescuedRow>(this.sql.rescuedOne, [file.id, Number(row?.id)]);
      return this.record(tx, event, toRescued(stored as RescuedRow), now);
    });
  }

  pruneRescued(before: number): Promise<number> {
    return this.db.run(this.sql.pruneRescued, [before]);
  }

  async setUserInfo(fileId: string, userId: string, info: string): Promise<void> {
    if (!storable(fileId)) throw new FileNotFoundError(fileId);
    await this.db.run(this.sql.setUserInfo, [fileId, userId, Buffer.from(info, 'utf8')]);
  }

  async update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
    event?: Describe<{ before: LockRecord | null; after: LockRecord | null; file: FileRecord }>,
  ): Promise<FileState> {
    return this.db.transaction(async (tx) => {
      const state = await this.lockedState(tx, fileId, now);
      const decided = decide(state.lock, state.file);
      let next: LockRecord | null = null;
      if (decided) {
        // the same lock id set again keeps when it was taken; any set is a refresh
        const takenAt = state.lock?.value === decided.value ? (state.lock.takenAt ?? now) : now;
        next = { value: decided.value, expiresAt: decided.expiresAt, takenAt, refreshedAt: now };
        await tx.run(this.sql.setLock, [fileId, next.value, next.expiresAt, takenAt, now]);
      } else await tx.run(this.sql.clearLock, [fileId]);
      await this.record(tx, event, { before: state.lock, after: next, file: state.file }, now);
      return { file: state.file, lock: next };
    });
  }

  async releaseSilent(
    silentSince: number,
    now: number,
    event?: Describe<{ lock: LockRecord; file: FileRecord }>,
  ): Promise<Array<{ lock: LockRecord; file: FileRecord }>> {
    const candidates = await this.db.all<{ file_id: string }>(this.sql.silentLocks, [now, silentSince]);
    const released: Array<{ lock: LockRecord; file: FileRecord }> = [];
    for (const { file_id } of candidates) {
      const one = await this.db
        .transaction(async (tx) => {
          const { file, lock } = await this.lockedState(tx, file_id, now);
          // a refresh, relock or save may have landed since the candidates were read
          const silent =
            lock !== null &&
            lock.refreshedAt !== undefined &&
            lock.refreshedAt < silentSince &&
            file.modifiedAt < silentSince;
          if (!silent) return null;
          await tx.run(this.sql.clearLock, [file_id]);
          return this.record(tx, event, { lock, file }, now);
        })
        .catch(notFoundAsNull);
      if (one) released.push(one);
    }
    return released;
  }

  async thinAutosaves(olderThan: number, now: number, event?: Describe<ThinnedVersions>): Promise<ThinnedVersions[]> {
    const candidates = await this.db.all<{ file_id: string }>(this.sql.thinCandidates, [olderThan, SESSION_GAP_MS]);
    const thinned: ThinnedVersions[] = [];
    for (const { file_id } of candidates) {
      const one = await this.db
        .transaction(async (tx) => {
          // locked, so no save lands between reading the history and dropping from it
          const { file } = await this.lockedState(tx, file_id, now);
          const history = (await tx.all<VersionRow>(this.sql.versions, [file_id])).map(toVersion);
          const versions = autosavesToThin(history, file.version, olderThan);
          if (versions.length === 0) return null;
          for (const version of versions) await tx.run(this.sql.dropVersion, [file_id, version]);
          return this.record(tx, event, { fileId: file_id, versions }, now);
        })
        .catch(notFoundAsNull);
      if (one) thinned.push(one);
    }
    return thinned;
  }

  async referencedBlobKeys(): Promise<Set<string>> {
    const rows = await this.db.all<{ blob_key: string }>(this.sql.referencedBlobs);
    return new Set(rows.map((r) => r.blob_key));
  }
}

function notFoundAsNull(err: unknown): null {
  if (err instanceof FileNotFoundError) return null;
  throw err;
}
