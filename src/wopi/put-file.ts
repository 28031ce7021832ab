import type { FileState } from '../storage/types.ts';
import {
  itemVersion,
  lastModifiedTime,
  loadState,
  lockConflict,
  parseSizeHeader,
  receiveBody,
  requirePermission,
} from './common.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { H } from './headers.ts';
import { assertLockHolder, optionalLock } from './lock-rules.ts';
import { readSaveFlags } from './save-flags.ts';

/**
 * The spec page's rules for PutFile: a locked file takes only its own lock; an unlocked file takes a write only
 * while it is empty (how ONLYOFFICE fills a new file from its template); anything else is 409 with the lock.
 */
export function assertPutAllowed(state: FileState, lock: string | undefined): void {
  if (state.lock) assertLockHolder(state, lock);
  else if (state.file.size !== 0) throw lockConflict('', 'file is not locked and is not empty');
}

/** PutFile (POST …/contents, X-WOPI-Override: PUT): the body becomes the file's new version. */
export async function putFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'write', 'writing');
  const lock = optionalLock(req);
  const guard = (state: FileState) => assertPutAllowed(state, lock);
  // Refuse before reading a body that could not be stored; the same check runs again inside the commit.
  guard(await loadState(host, req));
  const blob = await receiveBody(host, req, parseSizeHeader(req, H.size));
  const editors = req.header(H.editors);
  const file = await host.storage.catalog.commitVersion(
    req.fileId,
    {
      blob,
      authorId: req.grant.userId,
      ...(editors ? { editors } : {}),
      flags: readSaveFlags(req),
      source: 'put',
    },
    host.clock.now(),
    guard,
  );
  return {
    status: 200,
    headers: { [H.itemVersion]: itemVersion(file) },
    json: { LastModifiedTime: lastModifiedTime(file) },
  };
}
