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

/** What editors show for a link's guest who gave no name (ONLYOFFICE asks the guest instead, see onlyoffice.ts). */
export const ANONYMOUS_GUEST_NAME = 'Guest';

export interface FileInfoInput {
  host: WopiHost;
  state: FileState;
  grant: Grant;
  userInfo: string | null;
}

/**
 * Secure view: the document is shown, not handed over. Each flavour turns it into the properties its editor reads
 * (watermark, no print, no export or download, no copy); none of them gets a DownloadUrl or FileUrl.
 */
export const isSecureView = (grant: Grant): boolean => grant.watermark !== undefined;

/**
 * A commenter in the editor's comment-only mode (where it has one). Editors keep comments in the document, so in that
 * mode they save it (ONLYOFFICE locks it first; Collabora saves without a lock) under the commenter's token: the mode
 * is offered only when that token may write, or the commenter's comments would be refused on save. Otherwise the
 * commenter reads only.
 */
export const isCommentOnly = (grant: Grant): boolean => grant.role === 'commenter' && grant.permissions.write;

/**
 * CheckFileInfo properties every client reads (Microsoft's required set, ONLYOFFICE's page, Collabora's needs),
 * filled from the file, its lock state and the caller's token. Client-specific additions live beside this file.
 */
export function commonFileInfo({ host, state, grant, userInfo }: FileInfoInput) {
  const { file } = state;
  const { permissions: p } = grant;
  // a commenter edits nothing even when the token may save (see isCommentOnly): an editor that knows no comment-only
  // mode must open the document read-only, not for editing
  const writes = p.write && grant.role !== 'commenter';
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
    // a guest who gave no name is not shown under whatever the token was minted with
    UserFriendlyName: grant.anonymous ? ANONYMOUS_GUEST_NAME : grant.userName,
    IsAnonymousUser: grant.anonymous === true,
    UserCanWrite: writes,
    ReadOnly: !writes,
    UserCanRename: p.rename,
    UserCanReview: writes,
    // a copy saved with Save As would be the caller's own, outside secure view: editors hide Save As for it too
    UserCanNotWriteRelative: !p.writeRelative || isSecureView(grant),
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

/**
 * A client Quire does not recognise: the common properties, and secure view in the terms of the WOPI specification
 * itself (Microsoft's DisablePrint and CopyPasteRestrictions). Commenters read only (the specification has no
 * comment-only mode).
 */
export function genericFileInfo(input: FileInfoInput) {
  return {
    ...commonFileInfo(input),
    ...(isSecureView(input.grant) && { DisablePrint: true, CopyPasteRestrictions: 'BlockAll' }),
  };
}
