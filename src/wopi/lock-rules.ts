import type { FileState, LockRecord } from '../storage/types.ts';
import { lockConflict } from './common.ts';
import type { WopiRequest } from './context.ts';
import { badRequest } from './errors.ts';
import { H } from './headers.ts';

/** Lock ids: opaque, up to 1024 printable ASCII characters (SupportsExtendedLockLength). */
export const MAX_LOCK_LENGTH = 1024;
const LOCK_CHARS = /^[\x20-\x7e]+$/;

/** Reads a lock header that the operation requires. */
export function requiredLock(req: WopiRequest, name: string = H.lock): string {
  const value = optionalLock(req, name);
  if (value === undefined) throw badRequest(`${name} is required and must not be empty`);
  return value;
}

/** Reads a lock header that may be absent; a present one must still be well-formed. */
export function optionalLock(req: WopiRequest, name: string = H.lock): string | undefined {
  const value = req.header(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_LOCK_LENGTH) throw badRequest(`${name} is longer than ${MAX_LOCK_LENGTH} characters`);
  if (!LOCK_CHARS.test(value)) throw badRequest(`${name} must be printable ASCII`);
  return value;
}

export const currentLockValue = (lock: LockRecord | null) => lock?.value ?? '';

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
