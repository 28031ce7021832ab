import type { Readable } from 'node:stream';
import { QuireError } from '../core/errors.ts';

/**
 * What Quire needs from storage. Everything above this floor talks only to these interfaces; SQLite (embedded) and
 * PostgreSQL implement them from one set of SQL rules (sql/), and test/contract/ proves every implementation with
 * the same suites.
 */

/** Content-addressed, immutable bytes. */
export interface StoredBlob {
  /** Key to read the bytes back with (the SHA-256 in hex for the filesystem store). */
  key: string;
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

export interface BlobStore {
  /** Streams `source` into the store; resolves once the bytes are durable (fsynced). Rejects if `source` fails. */
  write(source: Readable): Promise<StoredBlob>;
  read(key: string): Readable;
  has(key: string): Promise<boolean>;
}

export interface FileRecord {
  id: string;
  name: string;
  ownerId: string;
  createdAt: number;
  /** Number of the head version: 1 for the first, +1 for every content change; never repeats for a file. */
  version: number;
  size: number;
  sha256: string;
  blobKey: string;
  /** When the content last changed (ms since epoch); strictly increases from one version to the next. */
  modifiedAt: number;
  modifiedBy: string;
}

export interface LockRecord {
  value: string;
  expiresAt: number;
}

/** A file with its lock as of one instant (`lock` is null when unlocked or expired). */
export interface FileState {
  file: FileRecord;
  lock: LockRecord | null;
}

/**
 * Runs inside the storage transaction that makes a change, against the state that change will replace; throwing
 * aborts the change. This is how a lock check and the write it guards happen atomically.
 */
export type Guard = (state: FileState) => void;

export type VersionSource = 'import' | 'put' | 'put-relative' | 'restore';

export interface SaveFlags {
  modifiedByUser?: boolean;
  autosave?: boolean;
  exitSave?: boolean;
  fileConversion?: boolean;
}

export interface NewVersion {
  blob: StoredBlob;
  authorId: string;
  /** User ids who contributed (X-WOPI-Editors), as sent. */
  editors?: string;
  flags?: SaveFlags;
  source: VersionSource;
}

/** Bytes a client sent, as kept: a version, or a rescued save. */
export interface StoredSave extends SaveFlags {
  fileId: string;
  size: number;
  sha256: string;
  blobKey: string;
  createdAt: number;
  authorId: string;
  editors?: string;
}

export interface VersionRecord extends StoredSave {
  version: number;
  source: VersionSource;
}

/**
 * A save that arrived complete but was refused (the lock did not match, the file changed meanwhile …): kept beside
 * the file's versions, never its head, so the edit is not lost; it can be downloaded or restored as the newest.
 */
export interface RescuedSave extends StoredSave {
  id: number;
  source: 'put' | 'put-relative';
  /** Why the save was refused, as the client was told. */
  reason: string;
  /** The lock the client sent with it, if any. */
  lock?: string;
}

export interface NewRescuedSave extends Omit<NewVersion, 'source'> {
  source: 'put' | 'put-relative';
  reason: string;
  lock?: string | undefined;
}

/**
 * Something that happened that users or integrators may need to know about: the one record audit, live updates and
 * webhooks read from. A change's event is written in the same transaction as the change, so there is never a change
 * without its event or an event without its change.
 */
export interface NewEvent {
  /** What happened, e.g. 'file.saved', 'lock.taken' (see EVENT_TYPES in wopi/ and documents/). */
  type: string;
  fileId?: string | undefined;
  /** Who did it. */
  userId?: string | undefined;
  userName?: string | undefined;
  /** Where the request came from. */
  address?: string | undefined;
  /** Which client sent it: the editor's flavour or a User-Agent. */
  client?: string | undefined;
  /** The WOPI client's correlation and session ids (X-WOPI-CorrelationId, X-WOPI-SessionId), when sent. */
  correlationId?: string | undefined;
  sessionId?: string | undefined;
  /** Whatever else the event carries (a version number, the old and new name …), as JSON. */
  details?: Record<string, unknown> | undefined;
}

/** Who did something, and from where: the part of an event every request knows. */
export type Actor = Pick<NewEvent, 'userId' | 'userName' | 'address' | 'client' | 'correlationId' | 'sessionId'>;

export interface EventRecord extends NewEvent {
  /** Increases with every event; a reader that remembers the last id it saw misses nothing. */
  id: number;
  /** ms since epoch */
  at: number;
}

export interface EventQuery {
  fileId?: string;
  userId?: string;
  /** Only events after this id (a live reader's cursor). */
  afterId?: number;
  /** Only events before this id (paging back through history). */
  beforeId?: number;
  /** At most this many, newest first unless `afterId` is given (then oldest first). */
  limit: number;
}

export interface EventLog {
  /** Records an event that comes with no change (an open, a download, a token minted). */
  append(event: NewEvent, at: number): Promise<EventRecord>;
  list(query: EventQuery): Promise<EventRecord[]>;
  /** Removes events older than `before` (retention); answers how many. */
  prune(before: number): Promise<number>;
}

/** How a change describes itself as an event, once it knows its result (the new version, the name it got …). */
export type Describe<R> = (result: R) => NewEvent | null;

/** What Catalog.replaceByName is given. */
export interface ReplaceByName {
  name: string;
  ownerId: string;
  version: NewVersion;
  now: number;
  guard: Guard;
  event?: Describe<CreatedFile>;
}

export interface CreatedFile {
  file: FileRecord;
  /** True when an existing file (same name) received a new version instead of a file being created. */
  replaced: boolean;
}

export interface Catalog {
  getFile(id: string): Promise<FileRecord | null>;
  getState(id: string, now: number): Promise<FileState | null>;
  findByName(name: string): Promise<FileRecord | null>;
  listFiles(): Promise<FileRecord[]>;
  /** Every file with its lock as of `now` (the web page's list). */
  listStates(now: number): Promise<FileState[]>;
  getVersion(id: string, version: number): Promise<VersionRecord | null>;
  listVersions(id: string): Promise<VersionRecord[]>;

  /**
   * Creates a file under the first of `names` that is free (checked and claimed in one transaction).
   * Throws NameTakenError when none is.
   */
  createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
    event?: Describe<FileRecord>;
  }): Promise<FileRecord>;

  /**
   * Writes to the file called `name`: a new version of it when it exists (after `guard` passes on its state),
   * else a new file with that name.
   */
  replaceByName(input: ReplaceByName): Promise<CreatedFile>;

  /** Moves the file's head to a new version after `guard` passes, in one transaction. */
  commitVersion(
    id: string,
    version: NewVersion,
    now: number,
    guard: Guard,
    event?: Describe<FileRecord>,
  ): Promise<FileRecord>;

  /** Renames to the first free name of `names` after `guard` passes. Throws NameTakenError when none is. */
  renameFile(
    id: string,
    names: Iterable<string>,
    now: number,
    guard: Guard,
    event?: Describe<{ before: FileRecord; after: FileRecord }>,
  ): Promise<FileRecord>;

  /** Removes the file from the catalog (its versions are kept) after `guard` passes. */
  deleteFile(id: string, now: number, guard: Guard, event?: Describe<FileRecord>): Promise<void>;

  /** Keeps a refused save beside the file (its head does not move). */
  rescue(fileId: string, save: NewRescuedSave, now: number, event?: Describe<RescuedSave>): Promise<RescuedSave>;
  /** A file's rescued saves, newest first. */
  listRescued(fileId: string): Promise<RescuedSave[]>;
  getRescued(fileId: string, id: number): Promise<RescuedSave | null>;
  /** Forgets rescued saves older than `before` (their blobs are left to blob GC); answers how many. */
  pruneRescued(before: number): Promise<number>;

  getUserInfo(fileId: string, userId: string): Promise<string | null>;
  setUserInfo(fileId: string, userId: string, info: string): Promise<void>;
}

/**
 * Compare-and-set on a file's lock. `decide` sees the current lock (null if none or expired) and returns the lock
 * to store (null to clear) or throws to change nothing; the read and the write are one atomic step.
 */
export interface LockStore {
  get(fileId: string, now: number): Promise<LockRecord | null>;
  update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
    event?: Describe<{ before: LockRecord | null; after: LockRecord | null; file: FileRecord }>,
  ): Promise<FileState>;
}

/** A person who signs in to Quire's pages: who is browsing, and who is editing. */
export interface User {
  id: string;
  /** What the person signs in with; unique without regard to case. */
  name: string;
  /** What editors and pages show. */
  displayName: string;
  isAdmin: boolean;
  /** ms since epoch */
  createdAt: number;
}

/** A user with their password hash (null for accounts that sign in through a trusted proxy header). */
export interface UserRecord extends User {
  passwordHash: string | null;
}

/**
 * Where users are kept. Only persistence: the rules for names and passwords, and hashing, live above
 * (users/accounts.ts), once for every store.
 */
export interface UserStore {
  /** Stores a new user; throws UserExistsError when `nameKey` is taken. */
  insert(user: {
    name: string;
    nameKey: string;
    displayName: string;
    passwordHash: string | null;
    isAdmin: boolean;
    createdAt: number;
  }): Promise<User>;
  findByKey(nameKey: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  /** Sets the hash; with `expected`, only if the stored hash is still that one. True when it was set. */
  setPasswordHash(id: string, hash: string, expected?: string): Promise<boolean>;
  /** Every user, by name key. */
  list(): Promise<User[]>;
}

export interface Storage {
  catalog: Catalog;
  locks: LockStore;
  blobs: BlobStore;
  /** What happened: every change's event (written with the change) and the events that come with none. */
  events: EventLog;
  /** People who sign in to Quire's pages; absent when an embedding app does its own sign-in. */
  users?: UserStore | undefined;
  close(): Promise<void>;
}

export class FileNotFoundError extends QuireError {
  override name = 'FileNotFoundError';
  constructor(readonly fileId: string) {
    super(404, 'file not found');
  }
}

export class NameTakenError extends QuireError {
  override name = 'NameTakenError';
  constructor(readonly takenName: string) {
    super(409, `a file named ${JSON.stringify(takenName)} exists`);
  }
}

export class UserExistsError extends QuireError {
  override name = 'UserExistsError';
  constructor(readonly userName: string) {
    super(409, `a user named ${JSON.stringify(userName)} already exists (names are compared without case)`);
  }
}
