import { QuireError } from '../core/errors.ts';
import type { FileState, LockRecord } from '../storage/types.ts';
import { H } from './headers.ts';

/** The lock rules of the spec pages, as guards that storage runs inside the transaction that makes a change. */

export const currentLockValue = (lock: LockRecord | null) => lock?.value ?? '';

/** 409 with the current lock ("" when unlocked), as every lock refusal must carry. */
export function lockConflict(currentLock: string, reason: string): QuireError {
  return new QuireError(409, reason, {
    headers: { [H.lock]: currentLock, [H.lockFailureReason]: reason },
  });
}

/**
 * For operations that change a file and may run while it is locked (RenameFile, PutRelativeFile's source check):
 * a locked file demands its own lock; an unlocked file lets the change through.
 */
export function assertLockHolder(state: FileState, lock: string | undefined): void {
  if (state.lock && state.lock.value !== lock) {
    throw lockConflict(
      state.lock.value,
      lock === undefined ? 'file is locked and the request carries no lock' : 'lock mismatch',
    );
  }
}

/** For operations that act on a lock the caller says it holds (Unlock, RefreshLock, UnlockAndRelock). */
export function assertHeld(current: LockRecord | null, held: string, mismatch = 'lock mismatch'): void {
  if (current?.value !== held) throw lockConflict(currentLockValue(current), current ? mismatch : 'file is not locked');
}

/** For changes that must wait until nobody holds the file (DeleteFile, an overwritten relative target). */
export function assertUnlocked(state: FileState, reason = 'file is locked'): void {
  if (state.lock) throw lockConflict(state.lock.value, reason);
}
