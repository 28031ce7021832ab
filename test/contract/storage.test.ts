/**
 * Every storage contract suite against every backend (test/contract/backends.ts). A backend that passes these is
 * one the protocol can stand on; the HTTP-level tests in test/ then check the protocol itself.
 */
import { accessStoreContract } from './access-store.contract.ts';
import { backends } from './backends.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { catalogContract } from './catalog.contract.ts';
import { eventLogContract } from './event-log.contract.ts';
import { lockStoreContract } from './lock-store.contract.ts';
import { rescuedContract } from './rescued.contract.ts';
import { thinningContract } from './thinning.contract.ts';
import { userStoreContract } from './user-store.contract.ts';

for (const backend of backends) {
  catalogContract(backend);
  lockStoreContract(backend);
  blobStoreContract(backend);
  userStoreContract(backend);
  eventLogContract(backend);
  rescuedContract(backend);
  thinningContract(backend);
  accessStoreContract(backend);
}
