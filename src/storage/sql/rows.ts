import { randomBytes } from 'node:crypto';
import type { FileRecord, FileState, RescuedSave, User, UserRecord, VersionRecord, VersionSource } from '../types.ts';

/**
 * Rows as either backend returns them, and the one mapping to records. PostgreSQL hands BIGINT over as a string
 * (ours are milliseconds and byte counts, far below 2^53) and booleans as booleans; SQLite hands both as numbers.
 */
type Int8 = number | string;
type Bool = number | boolean | null;

export interface FileRow {
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
  lock_taken_at: Int8 | null;
  lock_refreshed_at: Int8 | null;
}

export interface VersionRow {
  file_id: string;
  version: number;
  blob_key: string;
  size: Int8;
  sha256: string;
  created_at: Int8;
  author_id: string;
  editors: string | null;
  modified_by_user: Bool;
  autosave: Bool;
  exit_save: Bool;
  file_conversion: Bool;
  source: string;
}

export interface RescuedRow extends Omit<VersionRow, 'version' | 'source'> {
  id: number | string;
  source: string;
  reason: string;
  lock_sent: string | null;
}

export interface UserRow {
  id: string;
  name: string;
  display_name: string;
  password_hash: string | null;
  is_admin: Bool;
  created_at: Int8;
  disabled_at?: Int8 | null;
}

const flag = (v: Bool): boolean | undefined => (v === null ? undefined : v === true || v === 1);

export const toFile = (r: FileRow): FileRecord => ({
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

const optionalTime = (v: Int8 | null | undefined) => (v === null || v === undefined ? undefined : Number(v));

/** The file with its lock as of `now`: a lock whose expiry has passed is no lock. */
export const toState = (r: FileRow, now: number): FileState => {
  const expiresAt = r.lock_expires_at === null ? null : Number(r.lock_expires_at);
  const live = r.lock_value !== null && expiresAt !== null && expiresAt > now;
  return {
    file: toFile(r),
    lock: live
      ? {
          value: r.lock_value as string,
          expiresAt: expiresAt as number,
          takenAt: optionalTime(r.lock_taken_at),
          refreshedAt: optionalTime(r.lock_refreshed_at),
        }
      : null,
  };
};

export const toVersion = (r: VersionRow): VersionRecord => {
  const modifiedByUser = flag(r.modified_by_user);
  const autosave = flag(r.autosave);
  const exitSave = flag(r.exit_save);
  const fileConversion = flag(r.file_conversion);
  return {
    fileId: r.file_id,
    version: r.version,
    size: Number(r.size),
    sha256: r.sha256,
    blobKey: r.blob_key,
    createdAt: Number(r.created_at),
    authorId: r.author_id,
    ...(r.editors !== null && { editors: r.editors }),
    ...(modifiedByUser !== undefined && { modifiedByUser }),
    ...(autosave !== undefined && { autosave }),
    ...(exitSave !== undefined && { exitSave }),
    ...(fileConversion !== undefined && { fileConversion }),
    source: r.source as VersionSource,
  };
};

export const toRescued = (r: RescuedRow): RescuedSave => {
  const { version: _v, source: _s, ...common } = toVersion({ ...r, version: 0 });
  return {
    ...common,
    id: Number(r.id),
    source: r.source === 'put-relative' ? 'put-relative' : 'put',
    reason: r.reason,
    ...(r.lock_sent !== null && { lock: r.lock_sent }),
  };
};

export const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.display_name,
  isAdmin: flag(r.is_admin) === true,
  createdAt: Number(r.created_at),
  ...(r.disabled_at !== null && r.disabled_at !== undefined && { disabledAt: Number(r.disabled_at) }),
});

export const toUserRecord = (r: UserRow): UserRecord => ({ ...toUser(r), passwordHash: r.password_hash });

// hex: URL-safe, and never starts with "-" (so a CLI never mistakes an id for a flag)
export const newFileId = () => randomBytes(12).toString('hex');
// 16 bytes: user ids must not be guessable
export const newUserId = () => randomBytes(16).toString('hex');
