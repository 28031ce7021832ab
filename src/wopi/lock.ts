import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { itemVersion, requirePermission } from './file-state.ts';
import { H } from './headers.ts';
import { assertHeld, lockConflict } from './lock-rules.ts';
import { optionalLock, requiredLock } from './request-headers.ts';

/**
 * Lock (X-WOPI-Override: LOCK), and UnlockAndRelock when X-WOPI-OldLock is present. Locking again with the lock
 * the file already holds refreshes it. Locks belong to whoever presents the id, not to a user.
 */
export async function lock(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'write', 'locking');
  const wanted = requiredLock(req);
  const oldLock = optionalLock(req, H.oldLock);
  const now = host.clock.now();
  const state = await host.storage.locks.update(
    req.fileId,
    now,
    (current) => {
      const next = { value: wanted, expiresAt: now + host.config.lockTtlMs };
      if (oldLock !== undefined) {
        assertHeld(current, oldLock, 'old lock mismatch');
        return next;
      }
      if (current && current.value !== wanted) throw lockConflict(current.value, 'file is locked with another lock');
      return next;
    },
    ({ before }) => {
      // locking again with the lock held is a refresh: no event (RefreshLock writes none either)
      if (before?.value === wanted) return null;
      return eventOf(req, before ? EVENT.lockChanged : EVENT.lockTaken, { lock: wanted });
    },
  );
  return { status: 200, headers: { [H.itemVersion]: itemVersion(state.file) } };
}
