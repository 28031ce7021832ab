import type { BlobStore, Storage } from '../types.ts';
import { SqlAccessStore } from './access.ts';
import { SqlApiKeyStore } from './api-keys.ts';
import { SqlCatalog } from './catalog.ts';
import type { SqlDatabase } from './database.ts';
import { SqlUserStore } from './users.ts';
import type { SqlWebhookStore } from './webhooks.ts';

export type SqlStorage<D extends SqlDatabase> = Storage & {
  db: D;
  catalog: SqlCatalog;
  locks: SqlCatalog;
  users: SqlUserStore;
  access: SqlAccessStore;
  apiKeys: SqlApiKeyStore;
  webhooks: SqlWebhookStore;
};

/** A Storage on one SQL database: its catalog, lock store, event log and users, with `blobs` for the bytes. */
export function sqlStorage<D extends SqlDatabase>(db: D, blobs: BlobStore, namesLockKey?: string): SqlStorage<D> {
  const catalog = new SqlCatalog(db, namesLockKey);
  return {
    db,
    catalog,
    locks: catalog,
    events: catalog.events,
    blobs,
    users: new SqlUserStore(db),
    access: new SqlAccessStore(db, catalog.events),
    apiKeys: new SqlApiKeyStore(db, catalog.events),
    webhooks: catalog.events.webhooks,
    close: () => db.close(),
  };
}
