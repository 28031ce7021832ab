import { join } from 'node:path';
import { ensurePrivateFile, makePrivateDir } from '../../core/private-files.ts';
import { FsBlobStore } from '../fs-blobs.ts';
import { migrate } from '../sql/schema.ts';
import { type SqlStorage, sqlStorage } from '../sql/storage.ts';
import type { BlobStore } from '../types.ts';
import { SqliteDatabase } from './database.ts';

export type SqliteStorage = SqlStorage<SqliteDatabase>;

/**
 * The embedded default: `dir/catalog.sqlite` for files, versions, locks and users; `dir/blobs/` for the bytes, unless
 * `options.blobs` keeps them elsewhere (an S3 bucket).
 */
export async function openSqliteStorage(dir: string, options: { blobs?: BlobStore } = {}): Promise<SqliteStorage> {
  await makePrivateDir(dir);
  // SQLite creates its file 0644 and gives the -wal and -shm files the file's mode: made 0600 first, all three are
  const path = join(dir, 'catalog.sqlite');
  await ensurePrivateFile(path);
  const db = new SqliteDatabase(path);
  try {
    await db.transaction((tx) => migrate(tx, db.dialect));
    return sqlStorage(db, options.blobs ?? (await new FsBlobStore(join(dir, 'blobs')).init()));
  } catch (err) {
    await db.close();
    throw err;
  }
}
