import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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
  await mkdir(dir, { recursive: true });
  const db = new SqliteDatabase(join(dir, 'catalog.sqlite'), schemaScript);
  try {
    const catalog = new SqlCatalog(db);
    const blobs = await new FsBlobStore(join(dir, 'blobs')).init();
    return { db, catalog, locks: catalog, blobs, users: new SqlUserStore(db), close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}
