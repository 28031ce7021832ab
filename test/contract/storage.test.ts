/**
 * Every storage contract suite (src/testing/, what `quire/testing` ships to integrators) against every backend
 * (test/contract/backends.ts). A backend that passes these is one the protocol can stand on; the HTTP-level tests in
 * test/ then check the protocol itself.
 */
import { runStorageContract } from '../../src/testing/index.ts';
import { apiKeyStoreContract } from './api-key-store.contract.ts';
import { backends } from './backends.ts';

for (const backend of backends) {
  runStorageContract(backend, { skip: backend.skip ?? [] });
  // Quire's own store, not (yet) part of what `quire/testing` ships; it lives in the catalog's database
  if (!backend.skip?.includes('catalog')) apiKeyStoreContract(backend);
}
