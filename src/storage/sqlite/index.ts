import { join } from 'node:path';
import { ensurePrivateFile, makePrivateDir } from '../../core/private-files.ts';
import { FsBlobStore } from '../fs-blobs.ts';
import { SqlCatalog } from '../sql/catalog.ts';
import { schemaScript } from '../sql/schema.ts';
import { SqlUserStore } from '../sql/users.ts';
import type { Storage } from '../types.ts';
import { SqliteDatabase } from './database.ts';

export type SqliteStorage = Storage & {
  db: SqliteDatabase;
  catalog: SqlCatalog;
  locks: SqlCatalog;
  users: SqlUserStore;
};

/** The embedded default: `dir/catalog.sqlite` for files, versions, locks and users; `dir/blobs/` for the bytes. */
export async function openSqliteStorage(dir: string): Promise<SqliteStorage> {
  await makePrivateDir(dir);
  // SQLite creates its file 0644 and gives the -wal and -shm files the file's mode: made 0600 first, all three are
  const path = join(dir, 'catalog.sqlite');
  await ensurePrivateFile(path);
  const db = new SqliteDatabase(path, schemaScript);
  try {
    const catalog = new SqlCatalog(db);
    const blobs = await new FsBlobStore(join(dir, 'blobs')).init();
    return {
      db,
      catalog,
      locks: catalog,
      events: catalog.events,
      blobs,
      users: new SqlUserStore(db),
      close: () => db.close(),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
