import type { Storage } from '../storage/types.ts';

/**
 * A storage implementation as the contract suites see it: how to open a fresh, empty one, and (optionally) how to
 * reach the same data from a second instance. Quire's own backends are described this way in its
 * `test/contract/backends.ts`; an integrator writes one for their adapter and hands it to `runStorageContract`.
 */
export interface StorageBackend {
  /** Shown in every suite's name, e.g. `Catalog contract [my-store]`. */
  name: string;
  /**
   * Opens a fresh, empty store. `dir` is a new empty directory the suite made for this store alone (files may live
   * there; the suite removes it afterwards). Whatever the store keeps outside `dir` (a database schema, a bucket
   * prefix) should be named after `dir`, so that `openPeer(dir)` finds it, and be discarded by the store's close()
   * or by `dispose(dir)`.
   */
  open(dir: string): Promise<Storage>;
  /**
   * Opens a second, independent Storage on the data `open(dir)` created, with its own connections, as another
   * instance of the app behind the same address would. Its close() must leave the data alone. Without it, the
   * tests of two instances at once are skipped (say so only for a store that never runs as more than one instance).
   */
  openPeer?(dir: string): Promise<Storage>;
  /**
   * Removes whatever the store under `dir` left outside `dir`, after the store and its peers are closed (for a store
   * whose close() keeps its data). Optional.
   */
  dispose?(dir: string): Promise<void>;
  /**
   * The module this backend can be loaded from in another process, for the tests where two processes write at
   * once (contention through the database alone, as two servers or a server and a CLI command do). The module must
   * export this backend (with `openPeer`) as its default export, or in an array exported as `backends`, found by
   * `name`, and declare no tests itself (so not the test file): usually `import.meta.url` of a small file that only
   * describes the backend. Without it, those tests are skipped.
   */
  module?: string | URL;
  /**
   * The Node flags that process starts with; by default this process's own (`process.execArgv`), so a loader such
   * as tsx that runs the tests also runs the module.
   */
  execArgv?: readonly string[];
}

/** `it` options that skip a test needing a second instance when `backend` cannot open one. */
export const needsPeer = (backend: StorageBackend): { skip?: string } =>
  backend.openPeer ? {} : { skip: `${backend.name} opens no second instance (StorageBackend.openPeer)` };

/** `it` options that skip a test needing another process when `backend` says no module to load it from. */
export const needsPeerProcess = (backend: StorageBackend): { skip?: string } =>
  backend.openPeer && backend.module
    ? {}
    : { skip: `${backend.name} cannot be opened in another process (StorageBackend.module and openPeer)` };
