import { badRequest, notImplemented } from '../core/errors.ts';
import { checkFileInfo } from './check-file-info.ts';
import type { WopiOperation } from './context.ts';
import { deleteFile } from './delete-file.ts';
import { getFile } from './get-file.ts';
import { getLock } from './get-lock.ts';
import { H, OVERRIDE } from './headers.ts';
import { lock } from './lock.ts';
import { putFile } from './put-file.ts';
import { putRelativeFile } from './put-relative-file.ts';
import { putUserInfo } from './put-user-info.ts';
import { refreshLock } from './refresh-lock.ts';
import { renameFile } from './rename-file.ts';
import { unlock } from './unlock.ts';

/** The two WOPI endpoints of a file: /wopi/files/{id} and /wopi/files/{id}/contents. */
export type Endpoint = 'file' | 'contents';

/** The operation a GET means on each endpoint, by its WOPI name. */
const GETS: Record<Endpoint, [string, WopiOperation]> = {
  file: ['CHECK_FILE_INFO', checkFileInfo],
  contents: ['GET_FILE', getFile],
};

/** The operations a POST selects with X-WOPI-Override, on each endpoint. */
const POSTS: Record<Endpoint, Record<string, WopiOperation>> = {
  file: {
    [OVERRIDE.lock]: lock,
    [OVERRIDE.getLock]: getLock,
    [OVERRIDE.refreshLock]: refreshLock,
    [OVERRIDE.unlock]: unlock,
    [OVERRIDE.putRelative]: putRelativeFile,
    [OVERRIDE.renameFile]: renameFile,
    [OVERRIDE.deleteFile]: deleteFile,
    [OVERRIDE.putUserInfo]: putUserInfo,
  },
  contents: { [OVERRIDE.put]: putFile },
};

const normalOverride = (raw: string | undefined) => raw?.trim().toUpperCase() ?? '';

/**
 * Which operation a request asks for. A POST without X-WOPI-Override is 400; an override this endpoint does not
 * know is 501, as WOPI asks of hosts that do not implement an operation.
 */
export function operationFor(endpoint: Endpoint, method: string, override: string | undefined): WopiOperation {
  if (method === 'GET') return GETS[endpoint][1];
  if (!override) throw badRequest(`${H.override} is required`);
  const op = POSTS[endpoint][normalOverride(override)];
  if (!op) throw notImplemented(`${H.override}: ${override} is not supported on this endpoint`);
  return op;
}

/** The operation's WOPI name, as a bounded label for logs and metrics ('INVALID' for anything unknown). */
export function operationName(endpoint: Endpoint, method: string, override: string | undefined): string {
  if (method === 'GET') return GETS[endpoint][0];
  const name = normalOverride(override);
  return name in POSTS[endpoint] ? name : 'INVALID';
}
