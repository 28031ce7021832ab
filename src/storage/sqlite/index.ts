import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SqliteUserStore } from '../../users/sqlite-users.ts';
import { FsBlobStore } from '../fs-blobs.ts';
import type { Storage } from '../types.ts';
import { SqliteCatalog } from './catalog.ts';

/** The embedded default: `dir/catalog.sqlite` for files, versions and locks; `dir/blobs/` for the bytes. */
export async function openSqliteStorage(
  dir: string,
): Promise<Storage & { catalog: SqliteCatalog; users: SqliteUserStore }> {
  await mkdir(dir, { recursive: true });
  const catalog = new SqliteCatalog(join(dir, 'catalog.sqlite'));
  const blobs = await new FsBlobStore(join(dir, 'blobs')).init();
  return {
    catalog,
    locks: catalog,
    blobs,
    users: new SqliteUserStore(catalog.db, () => Date.now()),
    close: async () => catalog.close(),
  };
}
