import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  autosavesToThin,
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
  nameKey,
  type ReplaceByName,
  type RescuedSave,
  type SaveFlags,
  type ThinnedVersions,
  type VersionRecord,
  type VersionSource,
} from '../../../src/index.ts';
import type { FolderEventLog } from './events.ts';
import { fitsFolder, type HeadFiles } from './head-files.ts';

interface DocumentRow {
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
  lock_value: string | null;
  lock_expires_at: number | null;
  lock_taken_at: number | null;
  lock_refreshed_at: number | null;
}

interface SaveRow {
  document_id: string;
  blob_key: string;
  size: number;
  sha256: string;
  saved_at: number;
  author_id: string;
  editors: string | null;
  modified_by_user: number | null;
  autosave: number | null;
  exit_save: number | null;
  file_conversion: number | null;
  source: string;
}
interface VersionRow extends SaveRow {
  number: number;
}
interface RescuedRow extends SaveRow {
  id: number;
  reason: string;
  lock_sent: string | null;
}

const toFile = (r: DocumentRow): FileRecord => ({
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

/** A lock whose expiry has passed is no lock: every read, and every guard, sees it so. */
const toState = (r: DocumentRow, now: number): FileState => ({
  file: toFile(r),
  lock:
    r.lock_value !== null && r.lock_expires_at !== null && r.lock_expires_at > now
      ? {
          value: r.lock_value,
          expiresAt: r.lock_expires_at,
          takenAt: r.lock_taken_at ?? undefined,
          refreshedAt: r.lock_refreshed_at ?? undefined,
        }
      : null,
});

const flagOf = (v: number | null) => (v === null ? undefined : v === 1);
const flagColumn = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);

function savedFields(r: SaveRow) {
  const flags: SaveFlags = {};
  for (const [key, value] of [
    ['modifiedByUser', r.modified_by_user],
    ['autosave', r.autosave],
    ['exitSave', r.exit_save],
    ['fileConversion', r.file_conversion],
  ] as const) {
    const flag = flagOf(value);
    if (flag !== undefined) flags[key] = flag;
  }
  return {
    fileId: r.document_id,
    size: r.size,
    sha256: r.sha256,
    blobKey: r.blob_key,
    createdAt: r.saved_at,
    authorId: r.author_id,
    ...(r.editors !== null && { editors: r.editors }),
    ...flags,
  };
}

const toVersion = (r: VersionRow): VersionRecord => ({
  ...savedFields(r),
  version: r.number,
  source: r.source as VersionSource,
});

const toRescued = (r: RescuedRow): RescuedSave => ({
  ...savedFields(r),
  id: r.id,
  source: r.source === 'put-relative' ? 'put-relative' : 'put',
  reason: r.reason,
  ...(r.lock_sent !== null && { lock: r.lock_sent }),
});

/** What a save row stores of a version or rescued save, in column order after the document id. */
const saveColumns = (save: Omit<NewVersion, 'source'>, at: number) => {
  const f = save.flags ?? {};
  return [
    save.blob.key,
    save.blob.size,
    save.blob.sha256,
    at,
    save.authorId,
    save.editors ?? null,
    flagColumn(f.modifiedByUser),
    flagColumn(f.autosave),
    flagColumn(f.exitSave),
    flagColumn(f.fileConversion),
  ];
};

const newDocumentId = () => randomBytes(12).toString('hex');

/**
 * The app's documents as Quire's Catalog and LockStore, over the app's own SQLite tables.
 *
 * Every change is one `BEGIN IMMEDIATE` transaction that is synchronous from start to end (better-sqlite3 runs
 * JavaScript inside it): it reads the document's state, runs Quire's guard (or the lock's `decide`) on that state,
 * writes, and writes the change's event, all while holding SQLite's writer lock. Nothing else, in this process or
 * another, can write between the guard and the write; and since the transaction never awaits, two changes in one
 * process never interleave either. After the commit, the document's head is copied to `files/<name>`
 * (head-files.ts).
 */
export class FolderCatalog implements Catalog, LockStore {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly events: FolderEventLog,
    private readonly heads: HeadFiles,
  ) {
    const select = `
      SELECT d.id, d.name, d.owner_id, d.created_at, d.version,
             v.size, v.sha256, v.blob_key, v.saved_at AS modified_at, v.author_id AS modified_by,
             l.value AS lock_value, l.expires_at AS lock_expires_at,
             l.taken_at AS lock_taken_at, l.refreshed_at AS lock_refreshed_at
      FROM documents d
      JOIN versions v ON v.document_id = d.id AND v.number = d.version
      LEFT JOIN locks l ON l.document_id = d.id
      WHERE d.deleted_at IS NULL`;
    const saveCols = `blob_key, size, sha256, saved_at, author_id, editors, modified_by_user, autosave, exit_save,
                      file_conversion`;
    this.q = {
      byId: db.prepare(`${select} AND d.id = ?`),
      byName: db.prepare(`${select} AND d.name_key = ?`),
      all: db.prepare(`${select} ORDER BY d.name_key`),
      nameHolder: db.prepare('SELECT id FROM documents WHERE name_key = ? AND deleted_at IS NULL'),
      insertDocument: db.prepare(
        'INSERT INTO documents (id, name, name_key, owner_id, created_at, version) VALUES (?, ?, ?, ?, ?, 1)',
      ),
      insertVersion: db.prepare(
        `INSERT INTO versions (document_id, number, ${saveCols}, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      moveHead: db.prepare('UPDATE documents SET version = ? WHERE id = ?'),
      rename: db.prepare('UPDATE documents SET name = ?, name_key = ? WHERE id = ?'),
      markDeleted: db.prepare('UPDATE documents SET deleted_at = ? WHERE id = ?'),
      version: db.prepare('SELECT * FROM versions WHERE document_id = ? AND number = ?'),
      versions: db.prepare('SELECT * FROM versions WHERE document_id = ? ORDER BY number DESC'),
      dropVersion: db.prepare('DELETE FROM versions WHERE document_id = ? AND number = ?'),
      setLock: db.prepare(
        `INSERT INTO locks (document_id, value, expires_at, taken_at, refreshed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (document_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
           taken_at = excluded.taken_at, refreshed_at = excluded.refreshed_at`,
      ),
      clearLock: db.prepare('DELETE FROM locks WHERE document_id = ?'),
      silentLocks: db.prepare(
        `SELECT l.document_id FROM locks l
         JOIN documents d ON d.id = l.document_id AND d.deleted_at IS NULL
         JOIN versions v ON v.document_id = d.id AND v.number = d.version
         WHERE l.expires_at > ? AND l.refreshed_at < ? AND v.saved_at < ?`,
      ),
      rescue: db.prepare(
        `INSERT INTO rescued_saves (document_id, ${saveCols}, source, reason, lock_sent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rescuedOf: db.prepare('SELECT * FROM rescued_saves WHERE document_id = ? ORDER BY id DESC'),
      rescuedOne: db.prepare('SELECT * FROM rescued_saves WHERE document_id = ? AND id = ?'),
      pruneRescued: db.prepare('DELETE FROM rescued_saves WHERE saved_at < ?'),
      userInfo: db.prepare('SELECT info FROM editor_user_info WHERE document_id = ? AND user_id = ?'),
      setUserInfo: db.prepare(
        `INSERT INTO editor_user_info (document_id, user_id, info) VALUES (?, ?, ?)
         ON CONFLICT (document_id, user_id) DO UPDATE SET info = excluded.info`,
      ),
      // live documents with an old autosave: a superset of what the thinning rule drops, decided per document
      thinCandidates: db.prepare(
        `SELECT DISTINCT v.document_id FROM versions v JOIN documents d ON d.id = v.document_id
         WHERE d.deleted_at IS NULL AND v.autosave = 1 AND v.saved_at < ?`,
      ),
      referenced: db.prepare('SELECT blob_key FROM versions UNION SELECT blob_key FROM rescued_saves'),
    };
  }

  // ---- reading ---------------------------------------------------------------------------------------------------

  private row(id: string) {
    return this.q.byId.get(id) as DocumentRow | undefined;
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const r = this.row(id);
    return r ? toFile(r) : null;
  }

  async getState(id: string, now: number): Promise<FileState | null> {
    const r = this.row(id);
    return r ? toState(r, now) : null;
  }

  async findByName(name: string): Promise<FileRecord | null> {
    const r = this.q.byName.get(nameKey(name)) as DocumentRow | undefined;
    return r ? toFile(r) : null;
  }

  async listFiles(): Promise<FileRecord[]> {
    return (this.q.all.all() as DocumentRow[]).map(toFile);
  }

  async listStates(now: number): Promise<FileState[]> {
    return (this.q.all.all() as DocumentRow[]).map((r) => toState(r, now));
  }

  async getVersion(id: string, version: number): Promise<VersionRecord | null> {
    if (!Number.isSafeInteger(version)) return null;
    const r = this.q.version.get(id, version) as VersionRow | undefined;
    return r ? toVersion(r) : null;
  }

  async listVersions(id: string): Promise<VersionRecord[]> {
    return (this.q.versions.all(id) as VersionRow[]).map(toVersion);
  }

  async listRescued(fileId: string): Promise<RescuedSave[]> {
    return (this.q.rescuedOf.all(fileId) as RescuedRow[]).map(toRescued);
  }

  async getRescued(fileId: string, id: number): Promise<RescuedSave | null> {
    if (!Number.isSafeInteger(id)) return null;
    const r = this.q.rescuedOne.get(fileId, id) as RescuedRow | undefined;
    return r ? toRescued(r) : null;
  }

  async getUserInfo(fileId: string, userId: string): Promise<string | null> {
    const r = this.q.userInfo.get(fileId, userId) as { info: Buffer } | undefined;
    return r ? r.info.toString('utf8') : null;
  }

  async get(fileId: string, now: number): Promise<LockRecord | null> {
    const r = this.row(fileId);
    return r ? toState(r, now).lock : null;
  }

  // ---- the rules every change follows, inside its transaction -----------------------------------------------------

  /** Runs `change` as one BEGIN IMMEDIATE transaction: the writer lock is held from the first read to the commit. */
  private change<T>(change: () => T): T {
    return this.db.transaction(change).immediate();
  }

  private stateIn(id: string, now: number): FileState {
    const r = this.row(id);
    if (!r) throw new FileNotFoundError(id);
    return toState(r, now);
  }

  /** The first of `names` that no other live document holds and that can be a file in the folder. */
  private firstFreeName(names: Iterable<string>, exceptId?: string): string {
    let last = '';
    for (const name of names) {
      if (fitsFolder(name)) {
        const holder = this.q.nameHolder.get(nameKey(name)) as { id: string } | undefined;
        if (!holder || holder.id === exceptId) return name;
      }
      last = name;
    }
    throw new NameTakenError(last);
  }

  private addVersion(id: string, number: number, version: NewVersion, at: number): void {
    this.q.insertVersion.run(id, number, ...saveColumns(version, at), version.source);
  }

  private insertDocument(name: string, ownerId: string, version: NewVersion, now: number): FileRecord {
    const id = newDocumentId();
    this.q.insertDocument.run(id, name, nameKey(name), ownerId, now);
    this.addVersion(id, 1, version, now);
    return this.stateIn(id, now).file;
  }

  /** Quire's version rules: the number goes up by one, and the time by at least a millisecond, whatever the clock. */
  private commitOn({ file }: FileState, version: NewVersion, now: number): FileRecord {
    const at = Math.max(now, file.modifiedAt + 1);
    this.addVersion(file.id, file.version + 1, version, at);
    this.q.moveHead.run(file.version + 1, file.id);
    return this.stateIn(file.id, at).file;
  }

  private record<R>(describe: Describe<R> | undefined, result: R, at: number): R {
    const event = describe?.(result);
    if (event) this.events.insert(event, at);
    return result;
  }

  // ---- changes ----------------------------------------------------------------------------------------------------

  async createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
    event?: Describe<FileRecord>;
  }): Promise<FileRecord> {
    const file = this.change(() => {
      const name = this.firstFreeName(input.names);
      return this.record(input.event, this.insertDocument(name, input.ownerId, input.version, input.now), input.now);
    });
    await this.heads.sync(file.id);
    return file;
  }

  async replaceByName(input: ReplaceByName): Promise<CreatedFile> {
    const created = this.change((): CreatedFile => {
      const holder = this.q.nameHolder.get(nameKey(input.name)) as { id: string } | undefined;
      let result: CreatedFile;
      if (!holder) {
        if (!fitsFolder(input.name)) throw new NameTakenError(input.name);
        result = { file: this.insertDocument(input.name, input.ownerId, input.version, input.now), replaced: false };
      } else {
        const state = this.stateIn(holder.id, input.now);
        input.guard(state);
        result = { file: this.commitOn(state, input.version, input.now), replaced: true };
      }
      return this.record(input.event, result, input.now);
    });
    await this.heads.sync(created.file.id);
    return created;
  }

  async commitVersion(
    id: string,
    version: NewVersion,
    now: number,
    guard: Guard,
    event?: Describe<FileRecord>,
  ): Promise<FileRecord> {
    const file = this.change(() => {
      const state = this.stateIn(id, now);
      guard(state);
      return this.record(event, this.commitOn(state, version, now), now);
    });
    await this.heads.sync(id);
    return file;
  }

  async renameFile(
    id: string,
    names: Iterable<string>,
    now: number,
    guard: Guard,
    event?: Describe<{ before: FileRecord; after: FileRecord }>,
  ): Promise<FileRecord> {
    const after = this.change(() => {
      const state = this.stateIn(id, now);
      guard(state);
      const name = this.firstFreeName(names, id);
      this.q.rename.run(name, nameKey(name), id);
      const renamed = this.stateIn(id, now).file;
      this.record(event, { before: state.file, after: renamed }, now);
      return renamed;
    });
    await this.heads.sync(id);
    return after;
  }

  async deleteFile(id: string, now: number, guard: Guard, event?: Describe<FileRecord>): Promise<void> {
    this.change(() => {
      const state = this.stateIn(id, now);
      guard(state);
      this.q.clearLock.run(id);
      this.q.markDeleted.run(now, id);
      this.record(event, state.file, now);
    });
    await this.heads.sync(id);
  }

  async rescue(fileId: string, save: NewRescuedSave, now: number, event?: Describe<RescuedSave>): Promise<RescuedSave> {
    return this.change(() => {
      // the document must be live; its head and its lock stay as they are
      const { file } = this.stateIn(fileId, now);
      const { lastInsertRowid } = this.q.rescue.run(
        file.id,
        ...saveColumns(save, now),
        save.source,
        save.reason,
        save.lock ?? null,
      );
      const kept = toRescued(this.q.rescuedOne.get(file.id, lastInsertRowid) as RescuedRow);
      return this.record(event, kept, now);
    });
  }

  async pruneRescued(before: number): Promise<number> {
    return this.q.pruneRescued.run(before).changes;
  }

  async setUserInfo(fileId: string, userId: string, info: string): Promise<void> {
    // kept as bytes: any string, U+0000 included, comes back exactly
    this.q.setUserInfo.run(fileId, userId, Buffer.from(info, 'utf8'));
  }

  async update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
    event?: Describe<{ before: LockRecord | null; after: LockRecord | null; file: FileRecord }>,
  ): Promise<FileState> {
    return this.change(() => {
      const state = this.stateIn(fileId, now);
      const decided = decide(state.lock, state.file);
      let next: LockRecord | null = null;
      if (decided) {
        // the same lock id set again keeps when it was taken; any set counts as a refresh
        const takenAt = state.lock?.value === decided.value ? (state.lock.takenAt ?? now) : now;
        next = { value: decided.value, expiresAt: decided.expiresAt, takenAt, refreshedAt: now };
        this.q.setLock.run(fileId, next.value, next.expiresAt, takenAt, now);
      } else this.q.clearLock.run(fileId);
      this.record(event, { before: state.lock, after: next, file: state.file }, now);
      return { file: state.file, lock: next };
    });
  }

  async releaseSilent(
    silentSince: number,
    now: number,
    event?: Describe<{ lock: LockRecord; file: FileRecord }>,
  ): Promise<Array<{ lock: LockRecord; file: FileRecord }>> {
    const candidates = this.q.silentLocks.all(now, silentSince, silentSince) as Array<{ document_id: string }>;
    const released: Array<{ lock: LockRecord; file: FileRecord }> = [];
    for (const { document_id } of candidates) {
      const one = this.change(() => {
        const r = this.row(document_id);
        if (!r) return null;
        const { file, lock } = toState(r, now);
        // a refresh, relock or save may have landed since the candidates were read
        const silent =
          lock?.refreshedAt !== undefined && lock.refreshedAt < silentSince && file.modifiedAt < silentSince;
        if (!lock || !silent) return null;
        this.q.clearLock.run(document_id);
        return this.record(event, { lock, file }, now);
      });
      if (one) released.push(one);
    }
    return released;
  }

  async thinAutosaves(olderThan: number, now: number, event?: Describe<ThinnedVersions>): Promise<ThinnedVersions[]> {
    const candidates = this.q.thinCandidates.all(olderThan) as Array<{ document_id: string }>;
    const thinned: ThinnedVersions[] = [];
    for (const { document_id } of candidates) {
      const one = this.change(() => {
        const r = this.row(document_id);
        if (!r) return null;
        const history = (this.q.versions.all(document_id) as VersionRow[]).map(toVersion);
        // Quire's rule, not a copy of it: which autosaves a history can do without
        const versions = autosavesToThin(history, r.version, olderThan);
        if (versions.length === 0) return null;
        for (const v of versions) this.q.dropVersion.run(document_id, v);
        return this.record(event, { fileId: document_id, versions }, now);
      });
      if (one) thinned.push(one);
    }
    return thinned;
  }

  async referencedBlobKeys(): Promise<Set<string>> {
    return new Set((this.q.referenced.all() as Array<{ blob_key: string }>).map((r) => r.blob_key));
  }
}
