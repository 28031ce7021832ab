import { EVENT } from '../documents/events.ts';
import type { FileRecord, LockRecord } from '../storage/types.ts';
import type { WopiHost } from './context.ts';

/** What the automatic release writes in the event log as its reason. */
export const IDLE_RELEASE_REASON = 'no refresh or save';

/**
 * Releases the locks of editors that went silent: neither RefreshLock, Lock nor a save for `lockIdleReleaseMs`.
 * An editor that crashed or lost its network otherwise keeps everyone else out until the WOPI expiry (30 minutes);
 * live editors refresh well within the idle time, and the expiry itself stays as the protocol says. Each release is
 * a `lock.released` event marked `automatic`. Answers the ids of the files released.
 */
export async function releaseIdleLocks(host: WopiHost): Promise<string[]> {
  const idleMs = host.config.lockIdleReleaseMs;
  if (!(idleMs > 0)) return [];
  const now = host.clock.now();
  const released = await host.storage.locks.releaseSilent(now - idleMs, now, ({ lock, file }) => ({
    type: EVENT.lockReleased,
    fileId: file.id,
    userName: 'Quire',
    details: {
      lock: lock.value,
      automatic: true,
      reason: IDLE_RELEASE_REASON,
      idleMs,
      lastActivity: lastActivity(lock, file),
    },
  }));
  return released.map((r) => r.file.id);
}

/** The later of the lock's last set or refresh and the file's last save; unknown for a lock from before refreshes were kept. */
export function lastActivity(lock: LockRecord, file: FileRecord): number | undefined {
  return lock.refreshedAt === undefined ? undefined : Math.max(lock.refreshedAt, file.modifiedAt);
}

/** When Quire will release `lock` if its editor stays silent, when that comes before the lock's own expiry. */
export function idleReleaseAt(host: WopiHost, lock: LockRecord, file: FileRecord): number | undefined {
  const last = lastActivity(lock, file);
  const idleMs = host.config.lockIdleReleaseMs;
  if (last === undefined || !(idleMs > 0)) return undefined;
  return last + idleMs < lock.expiresAt ? last + idleMs : undefined;
}
