import { badRequest } from '../core/errors.ts';
import { illegalNameReason, nonClobberingNames, splitExtension } from '../documents/names.ts';
import type { FileState } from '../storage/types.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { loadState, requirePermission } from './file-state.ts';
import { H } from './headers.ts';
import { assertLockHolder } from './lock-rules.ts';
import { nameHeader, optionalLock } from './request-headers.ts';

const invalidName = (reason: string) =>
  badRequest(`invalid file name: ${reason}`, { [H.invalidFileNameError]: reason });

/**
 * RenameFile (X-WOPI-Override: RENAME_FILE). X-WOPI-RequestedName comes without extension; the extension stays.
 * If another file has the name, the host picks "name (n)" and says so in the response's Name. Collabora sends the
 * document as the body; it is not read.
 */
export async function renameFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'rename', 'renaming');
  const requested = nameHeader(req, H.requestedName, invalidName);
  if (requested === undefined) throw badRequest(`${H.requestedName} is required`);
  const lock = optionalLock(req);
  const guard = (state: FileState) => assertLockHolder(state, lock);
  const state = await loadState(host, req);
  guard(state);

  const reason = illegalNameReason(requested);
  if (reason) throw invalidName(reason);
  const newName = requested + splitExtension(state.file.name).ext;
  const lengthReason = illegalNameReason(newName);
  if (lengthReason) throw invalidName(lengthReason);

  const file = await host.storage.catalog.renameFile(
    req.fileId,
    nonClobberingNames(newName),
    host.clock.now(),
    guard,
    ({ before, after }) => eventOf(req, EVENT.renamed, { from: before.name, to: after.name }),
  );
  return { status: 200, json: { Name: splitExtension(file.name).base } };
}
