import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { loadState } from './file-state.ts';
import { H } from './headers.ts';
import { currentLockValue } from './lock-rules.ts';

/** GetLock: the current lock id, or the empty string when the file is not locked. */
export async function getLock(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  const state = await loadState(host, req);
  return { status: 200, headers: { [H.lock]: currentLockValue(state.lock) } };
}
