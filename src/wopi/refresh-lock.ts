import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { itemVersion, requirePermission } from './file-state.ts';
import { H } from './headers.ts';
import { assertHeld } from './lock-rules.ts';
import { requiredLock } from './request-headers.ts';

/** RefreshLock: restarts the expiry of the lock the caller holds. */
export async function refreshLock(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'write', 'locking');
  const held = requiredLock(req);
  const now = host.clock.now();
  const state = await host.storage.locks.update(req.fileId, now, (current) => {
    assertHeld(current, held);
    return { value: held, expiresAt: now + host.config.lockTtlMs };
  });
  return { status: 200, headers: { [H.itemVersion]: itemVersion(state.file) } };
}
