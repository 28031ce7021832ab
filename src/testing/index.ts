/**
 * Quire's conformance kit (`import … from 'quire/testing'`): the contract suites every storage backend of Quire
 * passes, for an integrator to run against their own adapter with `node --test`.
 *
 * ```ts
 * // test/storage.test.ts in your app
 * import { runStorageContract } from 'quire/testing';
 * import { openMyStorage } from '../src/my-storage.js';
 *
 * runStorageContract({
 *   name: 'my-storage',
 *   open: (dir) => openMyStorage({ folder: dir }), // a fresh, empty store; its close() cleans up
 *   openPeer: (dir) => openMyStorage({ folder: dir }), // optional: a second instance on the same data
 * });
 * ```
 *
 * For the tests where two processes write at once, describe the backend in a module of its own and give it
 * `module: import.meta.url` (see `StorageBackend.module`).
 *
 * Each suite is a `describe` block of `node:test` using `node:assert`; a failing test names the rule it checks.
 * The suites pass explicit times, so none waits; they need only what `Storage` promises (storage/types.ts), plus a
 * temp directory per test.
 */
import { accessStoreContract } from './access-store.contract.ts';
import type { StorageBackend } from './backend.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { catalogContract } from './catalog.contract.ts';
import { eventLogContract } from './event-log.contract.ts';
import { lockStoreContract } from './lock-store.contract.ts';
import { rescuedContract } from './rescued.contract.ts';
import { thinningContract } from './thinning.contract.ts';
import { userStoreContract } from './user-store.contract.ts';
import { webhookStoreContract } from './webhook-store.contract.ts';

export type { StorageBackend } from './backend.ts';
export {
  freshStorePerTest,
  MINUTE,
  newFileIn,
  openFixture,
  readBlob,
  type StoreFixture,
  T0,
  versionOf,
  writeBlob,
} from './fixture.ts';
export {
  accessStoreContract,
  blobStoreContract,
  catalogContract,
  eventLogContract,
  lockStoreContract,
  rescuedContract,
  thinningContract,
  userStoreContract,
  webhookStoreContract,
};

/** Each suite `runStorageContract` runs, by the part of `Storage` it proves. */
export const CONTRACT_SUITES = {
  /** `Catalog`: files, names that never clobber, versions, rename, delete, user info. */
  catalog: catalogContract,
  /** `LockStore`: compare-and-set locks with expiry, atomic across instances. */
  locks: lockStoreContract,
  /** `BlobStore`: content-addressed bytes that appear whole or not at all, and what garbage collection needs. */
  blobs: blobStoreContract,
  /** `EventLog`: one event per change, in the change's transaction; ids that only grow. */
  events: eventLogContract,
  /** `Catalog.rescue`: saves refused for a lock conflict, kept. */
  rescued: rescuedContract,
  /** `Catalog.thinAutosaves` and blob references. */
  thinning: thinningContract,
  /** `UserStore` (`Storage.users`): people who sign in to Quire's own pages. */
  users: userStoreContract,
  /** `AccessStore` (`Storage.access`): shares, links, groups and sign-ins. */
  access: accessStoreContract,
  /** `WebhookStore` (`Storage.webhooks`): the outbox written with each event, and exclusive, leased claims. */
  webhooks: webhookStoreContract,
} as const satisfies Record<string, (backend: StorageBackend) => void>;

export type ContractSuite = keyof typeof CONTRACT_SUITES;

export interface StorageContractOptions {
  /**
   * Suites not to run. A store without `users` or `access` (an app that signs people in and decides access
   * itself) skips `['users', 'access']`; one that sends no webhooks skips `['webhooks']`.
   */
  skip?: readonly ContractSuite[];
}

/**
 * Declares every storage contract suite for `backend`, as `describe` blocks: call it at the top level of a test
 * file and run the file with `node --test`. Each test opens a fresh store with `backend.open(dir)` in a new temp
 * directory and closes it after.
 */
export function runStorageContract(backend: StorageBackend, options: StorageContractOptions = {}): void {
  const unknown = (options.skip ?? []).filter((name) => !(name in CONTRACT_SUITES));
  if (unknown.length > 0) {
    throw new Error(`no contract suite named ${unknown.join(', ')}; the suites: ${Object.keys(CONTRACT_SUITES)}`);
  }
  for (const [name, suite] of Object.entries(CONTRACT_SUITES)) {
    if (!options.skip?.includes(name as ContractSuite)) suite(backend);
  }
}
