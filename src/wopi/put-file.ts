import { QuireError } from '../core/errors.ts';
import type { FileRecord, FileState } from '../storage/types.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { itemVersion, lastModifiedTime, loadState, receiveBody, requirePermission } from './file-state.ts';
import { H } from './headers.ts';
import { assertLockHolder, lockConflict } from './lock-rules.ts';
import { editorTimestamp, optionalLock, saveFlags, sizeHeader } from './request-headers.ts';
import { refuseKeepingBlob, refuseKeepingBody } from './rescue.ts';

/**
 * Collabora's "document changed in storage" answer: a 409 whose body carries status 1010 (both spellings, for
 * current and older versions), so the editor asks the user instead of overwriting someone else's change.
 */
function changedInStorage(): QuireError {
  return new QuireError(409, 'file changed since the editor last read it', {
    headers: { [H.lock]: '', [H.lockFailureReason]: 'file changed since the timestamp the editor sent' },
    body: { COOLStatusCode: 1010, LOOLStatusCode: 1010 },
  });
}

/**
 * Whether a save may replace the file. The spec page's rules, in order: a locked file takes only its own lock
 * (a save carrying it is decided by the lock, whatever timestamp it also sends); an unlocked, empty file takes any
 * save (ONLYOFFICE fills new files from its template this way). Then, for an unlocked, non-empty file: a save
 * carrying Collabora's timestamp (Collabora does not always lock) is valid when the timestamp is the file's
 * current LastModifiedTime and refused with 1010 when stale; without one it is 409.
 */
export function assertPutAllowed(state: FileState, lock: string | undefined, timestamp: number | undefined): void {
  if (state.lock) {
    assertLockHolder(state, lock);
  } else if (state.file.size !== 0) {
    if (timestamp === undefined) throw lockConflict('', 'file is not locked and is not empty');
    if (timestamp !== state.file.modifiedAt) throw changedInStorage();
  }
}

/** PutFile (POST …/contents, X-WOPI-Override: PUT): the body becomes the file's new version. */
export async function putFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'write', 'writing');
  const lock = optionalLock(req);
  // Microsoft's clients get the stricter rules: no timestamp exception
  const timestamp = host.flavour() === 'microsoft' ? undefined : editorTimestamp(req);
  const guard = (state: FileState) => assertPutAllowed(state, lock, timestamp);
  const declaredSize = sizeHeader(req, H.size);
  const editors = req.header(H.editors);
  const flags = saveFlags(req);
  // what a refused save is kept as (wopi/rescue.ts)
  const shape = { authorId: req.grant.userId, ...(editors ? { editors } : {}), flags, source: 'put' as const, lock };
  // Refuse before storing a body that could not be the new version (keeping it as a rescued save); the same check
  // runs again inside the commit.
  try {
    guard(await loadState(host, req));
  } catch (refusal) {
    return refuseKeepingBody(host, req, refusal, shape, declaredSize);
  }
  const blob = await receiveBody(host, req, declaredSize);
  let file: FileRecord;
  try {
    file = await host.storage.catalog.commitVersion(
      req.fileId,
      { blob, authorId: req.grant.userId, ...(editors ? { editors } : {}), flags, source: 'put' },
      host.clock.now(),
      guard,
      (saved) =>
        eventOf(req, EVENT.saved, { version: saved.version, size: saved.size, ...flags, ...(editors && { editors }) }),
    );
  } catch (refusal) {
    // another client locked or saved while this body arrived
    return refuseKeepingBlob(host, req, refusal, blob, shape);
  }
  return {
    status: 200,
    headers: { [H.itemVersion]: itemVersion(file) },
    json: { LastModifiedTime: lastModifiedTime(file) },
  };
}
