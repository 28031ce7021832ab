import { commonFileInfo, type FileInfoInput, HOST_PAGE_MESSAGES } from './common.ts';

/** ONLYOFFICE Docs: the properties of its CheckFileInfo page that Quire can honour. */
export function onlyofficeFileInfo(input: FileInfoInput) {
  return {
    ...commonFileInfo(input),
    ...HOST_PAGE_MESSAGES,
  };
}
