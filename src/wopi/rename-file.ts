import type { FileState } from '../storage/types.ts';
import { loadState, requirePermission } from './common.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { badRequest } from './errors.ts';
import { H } from './headers.ts';
import { assertLockHolder, optionalLock } from './lock-rules.ts';
import { decodeNameHeader, illegalNameReason, NameError, nonClobberingNames, splitExtension } from './names.ts';

const invalidName = (reason: string) =>
  badRequest(`invalid file name: ${reason}`, { [H.invalidFileNameError]: reason });

/**
 * RenameFile (X-WOPI-Override: RENAME_FILE). X-WOPI-RequestedName comes without extension; the extension stays.
 * If another file has the name, the host picks "name (n)" and says so in the response's Name. Collabora sends the
 * document as the body; it is not read.
 */
export async function renameFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  requirePermission(req, 'rename', 'renaming');
  const raw = req.header(H.requestedName);
  if (raw === undefined) throw badRequest(`${H.requestedName} is required`);
  let requested: string;
  try {
    requested = decodeNameHeader(raw);
  } catch (err) {
    if (err instanceof NameError) throw invalidName(err.message);
    throw err;
  }
  const lock = optionalLock(req);
  const guard = (state: FileState) => assertLockHolder(state, lock);
  const state = await loadState(host, req);
  guard(state);

  const reason = illegalNameReason(requested);
  if (reason) throw invalidName(reason);
  const newName = requested + splitExtension(state.file.name).ext;
  const lengthReason = illegalNameReason(newName);
  if (lengthReason) throw invalidName(lengthReason);

  const file = await host.storage.catalog.renameFile(req.fileId, nonClobberingNames(newName), host.clock.now(), guard);
  return { status: 200, json: { Name: splitExtension(file.name).base } };
}
