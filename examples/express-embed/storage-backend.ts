/**
 * The adapter as Quire's conformance kit sees it (`StorageBackend`): a module of its own that declares no tests, so
 * the kit can also load it in a second process for its two-process races.
 */
import type { StorageBackend } from '../../src/testing/index.ts';
import { openFolderStorage } from './storage/index.ts';

const backend: StorageBackend = {
  name: 'express-embed folder storage',
  open: (dir) => openFolderStorage({ root: dir }),
  // another instance of the app on the same folder and database (its close() leaves the data alone)
  openPeer: (dir) => openFolderStorage({ root: dir }),
  module: import.meta.url,
};

export default backend;
