import { commonFileInfo, type FileInfoInput, isCommentOnly, isSecureView } from './common.ts';

/**
 * Collabora Online: the CheckFileInfo extensions coolwsd reads (wsd/wopi/WopiStorage.cpp, `WOPIFileInfo`), as
 * DocumentBroker applies them. It does not read IsAnonymousUser: a guest is shown by UserFriendlyName alone.
 */
export function collaboraFileInfo(input: FileInfoInput) {
  const { grant, state } = input;
  const isOwner = state.file.ownerId === grant.userId;
  const secure = isSecureView(grant);
  return {
    ...commonFileInfo(input),
    IsAdminUser: grant.isAdmin === true,
    // lets the owner end everyone's session, e.g. before renaming or deleting; Collabora honours it only in the
    // session of the user whose UserId is the OwnerId, and Quire gives it only to a token with the owner's role
    EnableOwnerTermination: grant.role === 'owner' && (isOwner || grant.isAdmin === true),
    UserExtraInfo: {},
    // secure view: Collabora draws WatermarkText over every page, disables printing, exporting ("Download as") and
    // copying out of the document, and hides their menu entries (DisablePrint/DisableExport imply the Hide… ones)
    HidePrintOption: secure,
    // a read-only secure view has nothing to save; an editor under secure view keeps Save (it hands nothing over)
    HideSaveOption: secure && !grant.permissions.write,
    HideExportOption: secure,
    DisablePrint: secure,
    DisableExport: secure,
    DisableCopy: secure,
    EnableShare: false,
    // Comment-only mode (added to Collabora Online in January 2025): the document is read-only but comments can be
    // added, and saved with PutFile (without a lock, the session being read-only); it supersedes UserCanWrite. Older
    // versions ignore it and, UserCanWrite being false, open the document read-only.
    ...(isCommentOnly(grant) && { UserCanOnlyComment: true }),
    ...(secure && { WatermarkText: grant.watermark }),
  };
}
