import type { Grant } from '../../auth/tokens.ts';
import { MAX_NAME_LENGTH, splitExtension } from '../../documents/names.ts';
import type { FileState } from '../../storage/types.ts';
import type { WopiHost } from '../context.ts';
import { itemVersion, lastModifiedTime } from '../file-state.ts';

/**
 * Quire's host page answers UI_Close, UI_Edit and UI_FileVersions itself; editors that honour these flags send the
 * message instead of navigating away.
 */
export const HOST_PAGE_MESSAGES = {
  ClosePostMessage: true,
  EditModePostMessage: true,
  FileVersionPostMessage: true,
} as const;

export interface FileInfoInput {
  host: WopiHost;
  state: FileState;
  grant: Grant;
  userInfo: string | null;
}

/**
 * CheckFileInfo properties every client reads (Microsoft's required set, ONLYOFFICE's page, Collabora's needs),
 * filled from the file, its lock state and the caller's token. Client-specific additions live beside this file.
 */
export function commonFileInfo({ host, state, grant, userInfo }: FileInfoInput) {
  const { file } = state;
  const { permissions: p } = grant;
  const ext = splitExtension(file.name).ext;
  return {
    BaseFileName: file.name,
    BreadcrumbDocName: file.name,
    FileExtension: ext,
    // excludes the extension, which renames keep
    FileNameMaxLength: MAX_NAME_LENGTH - [...ext].length,
    OwnerId: file.ownerId,
    Size: file.size,
    Version: itemVersion(file),
    LastModifiedTime: lastModifiedTime(file),
    SHA256: Buffer.from(file.sha256, 'hex').toString('base64'),

    UserId: grant.userId,
    UserFriendlyName: grant.userName,
    IsAnonymousUser: false,
    UserCanWrite: p.write,
    ReadOnly: !p.write,
    UserCanRename: p.rename,
    UserCanReview: p.write,
    UserCanNotWriteRelative: !p.writeRelative,
    ...(userInfo !== null && { UserInfo: userInfo }),

    SupportsLocks: true,
    SupportsGetLock: true,
    SupportsExtendedLockLength: true,
    SupportsUpdate: true,
    SupportsRename: true,
    SupportsDeleteFile: true,
    SupportsUserInfo: true,
    SupportsReviewing: true,

    BreadcrumbBrandName: host.config.brandName,
    BreadcrumbBrandUrl: host.urls.publicUrl,
    CloseUrl: `${host.urls.publicUrl}/`,
    HostViewUrl: host.urls.hostPage(file.id, 'view'),
    HostEditUrl: host.urls.hostPage(file.id, 'edit'),
    HostEditNewUrl: host.urls.hostPage(file.id, 'editnew'),
    FileVersionUrl: host.urls.historyPage(file.id),
    // the origin of Quire's host page, which exchanges postMessages with the editor frame
    PostMessageOrigin: host.urls.origin,
  };
}
