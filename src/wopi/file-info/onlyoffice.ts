import { commonFileInfo, type FileInfoInput } from './common.ts';

/** ONLYOFFICE Docs: the properties of its CheckFileInfo page that Quire can honour. */
export function onlyofficeFileInfo(input: FileInfoInput) {
  return {
    ...commonFileInfo(input),
    // the host page handles these messages (UI_Close, UI_Edit, UI_FileVersions)
    ClosePostMessage: true,
    EditModePostMessage: true,
    FileVersionPostMessage: true,
  };
}
