import { commonFileInfo, type FileInfoInput } from './common.ts';

/** Collabora Online: the CheckFileInfo extensions coolwsd reads. */
export function collaboraFileInfo(input: FileInfoInput) {
  const { grant, state } = input;
  const isOwner = state.file.ownerId === grant.userId;
  return {
    ...commonFileInfo(input),
    IsAdminUser: grant.isAdmin === true,
    // lets the owner (or an admin) end everyone's session, e.g. before renaming or deleting
    EnableOwnerTermination: isOwner || grant.isAdmin === true,
    UserExtraInfo: {},
    HidePrintOption: false,
    HideSaveOption: false,
    HideExportOption: false,
    DisablePrint: false,
    DisableExport: false,
    DisableCopy: false,
    EnableShare: false,
  };
}
