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

export interface VersionRecord extends SaveFlags {
  fileId: string;
  version: number;
  size: number;
  sha256: string;
  blobKey: string;
  createdAt: number;
  authorId: string;
  editors?: string;
  source: VersionSource;
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
  }): Promise<FileRecord>;

  /**
   * Writes to the file called `name`: a new version of it when it exists (after `guard` passes on its state),
   * else a new file with that name.
   */
  replaceByName(input: {
    name: string;
    ownerId: string;
    version: NewVersion;
    now: number;
    guard: Guard;
  }): Promise<CreatedFile>;

  /** Moves the file's head to a new version after `guard` passes, in one transaction. */
  commitVersion(id: string, version: NewVersion, now: number, guard: Guard): Promise<FileRecord>;

  /** Renames to the first free name of `names` after `guard` passes. Throws NameTakenError when none is. */
  renameFile(id: string, names: Iterable<string>, now: number, guard: Guard): Promise<FileRecord>;

  /** Removes the file from the catalog (its versions are kept) after `guard` passes. */
  deleteFile(id: string, now: number, guard: Guard): Promise<void>;

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
