import { checkFileInfo } from './check-file-info.ts';
import type { WopiOperation } from './context.ts';
import { deleteFile } from './delete-file.ts';
import { getFile } from './get-file.ts';
import { getLock } from './get-lock.ts';
import { OVERRIDE } from './headers.ts';
import { lock } from './lock.ts';
import { putFile } from './put-file.ts';
import { putRelativeFile } from './put-relative-file.ts';
import { putUserInfo } from './put-user-info.ts';
import { refreshLock } from './refresh-lock.ts';
import { renameFile } from './rename-file.ts';
import { unlock } from './unlock.ts';

/** Which operation each endpoint and X-WOPI-Override value means. */
export const operations = {
  /** GET /wopi/files/{id} */
  fileGet: checkFileInfo,
  /** POST /wopi/files/{id}, by X-WOPI-Override */
  filePost: {
    [OVERRIDE.lock]: lock,
    [OVERRIDE.getLock]: getLock,
    [OVERRIDE.refreshLock]: refreshLock,
    [OVERRIDE.unlock]: unlock,
    [OVERRIDE.putRelative]: putRelativeFile,
    [OVERRIDE.renameFile]: renameFile,
    [OVERRIDE.deleteFile]: deleteFile,
    [OVERRIDE.putUserInfo]: putUserInfo,
  } as Record<string, WopiOperation>,
  /** GET /wopi/files/{id}/contents */
  contentsGet: getFile,
  /** POST /wopi/files/{id}/contents, by X-WOPI-Override */
  contentsPost: { [OVERRIDE.put]: putFile } as Record<string, WopiOperation>,
};
