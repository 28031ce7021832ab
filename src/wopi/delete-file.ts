import type { FileState } from '../storage/types.ts';
import { loadState, lockConflict, requirePermission } from './common.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';

function assertUnlocked(state: FileState): void {
  if (state.lock) throw lockConflict(state.lock.value, 'file is locked');
}

/** DeleteFile (X-WOPI-Override: DELETE): refused while the file is locked. Its versions are kept. */
export async function deleteFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'delete', 'deleting');
  assertUnlocked(await loadState(host, req));
  await host.storage.catalog.deleteFile(req.fileId, host.clock.now(), assertUnlocked);
  return { status: 200 };
}
