import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { itemVersion, requirePermission } from './file-state.ts';
import { H } from './headers.ts';
import { assertHeld } from './lock-rules.ts';
import { requiredLock } from './request-headers.ts';

/** Unlock: releases the lock the caller holds. */
export async function unlock(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'write', 'unlocking');
  const held = requiredLock(req);
  const state = await host.storage.locks.update(
    req.fileId,
    host.clock.now(),
    (current) => {
      assertHeld(current, held);
      return null;
    },
    () => eventOf(req, EVENT.lockReleased, { lock: held }),
  );
  return { status: 200, headers: { [H.itemVersion]: itemVersion(state.file) } };
}
