import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { loadState, requirePermission } from './file-state.ts';
import { assertUnlocked } from './lock-rules.ts';

/** DeleteFile (X-WOPI-Override: DELETE): refused while the file is locked. Its versions are kept. */
export async function deleteFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'delete', 'deleting');
  assertUnlocked(await loadState(host, req));
  await host.storage.catalog.deleteFile(
    req.fileId,
    host.clock.now(),
    (state) => assertUnlocked(state),
    (file) => eventOf(req, EVENT.deleted, { name: file.name }),
  );
  return { status: 200 };
}
