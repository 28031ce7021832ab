import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FsBlobStore, type Storage } from '../../../src/index.ts';
import { FolderCatalog } from './catalog.ts';
import { FolderEventLog } from './events.ts';
import { HeadFiles } from './head-files.ts';
import { openDatabase } from './schema.ts';
import { PeopleStore } from './users.ts';

export interface FolderStorage extends Storage {
  /** Where each live document's newest version is, as `<filesDir>/<name>`. */
  filesDir: string;
}

/**
 * The example app's storage adapter, rooted at `root`:
 *
 * - `root/app.db`: the app's SQLite database; the adapter's tables (schema.ts) hold documents, versions, locks,
 *   rescued saves, editor user info, events and Quire's record of the app's people;
 * - `root/files/<name>`: each live document's newest version, for the rest of the app (head-files.ts);
 * - `root/.versions/`: every version's bytes, content-addressed (Quire's own FsBlobStore: written whole or not at
 *   all, and collected safely once nothing references them).
 *
 * No access store, API keys or webhooks: the app decides access itself (`access` in createQuire) and sends no
 * webhooks. Several processes may open the same root (SQLite's writer lock serializes their changes).
 */
export async function openFolderStorage(options: {
  root: string;
  onMirrorError?: (err: unknown, documentId: string) => void;
}): Promise<FolderStorage> {
  const filesDir = join(options.root, 'files');
  await mkdir(filesDir, { recursive: true });
  const blobs = await new FsBlobStore(join(options.root, '.versions')).init();
  const db = openDatabase(join(options.root, 'app.db'));
  try {
    const events = new FolderEventLog(db);
    const heads = new HeadFiles(
      db,
      blobs,
      filesDir,
      options.onMirrorError ??
        ((err, id) => console.warn(`files/ is behind for document ${id} until the next start:`, err)),
    );
    await heads.reconcile();
    const catalog = new FolderCatalog(db, events, heads);
    return {
      catalog,
      locks: catalog,
      blobs,
      events,
      users: new PeopleStore(db),
      filesDir,
      async close() {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
