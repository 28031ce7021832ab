import { commonFileInfo, type FileInfoInput, HOST_PAGE_MESSAGES, isCommentOnly, isSecureView } from './common.ts';

/**
 * ONLYOFFICE Docs: the properties of its CheckFileInfo page that Quire can honour. What its DocService does with
 * them (DocsCoServer.js `fillDataFromWopiJwt`, wopiClient.js `getEditorHtml`):
 * - edit = !ReadOnly && UserCanWrite && !UserCanOnlyComment; comment = edit || UserCanOnlyComment; review follows
 *   UserCanReview (never for a commenter); copy = CopyPasteRestrictions is neither BlockAll nor CurrentDocumentOnly;
 *   print = !DisablePrint && !HidePrintOption.
 * - IsAnonymousUser: the editor ignores UserFriendlyName and asks the guest for a name.
 * - No watermark and no way to turn off "Download as" through CheckFileInfo: secure view here is no print, no copy.
 */
export function onlyofficeFileInfo(input: FileInfoInput) {
  const { grant } = input;
  return {
    ...commonFileInfo(input),
    ...HOST_PAGE_MESSAGES,
    // Comment-only mode (ONLYOFFICE Docs 9.1 and later), in the edit action only: the editor locks the document and
    // saves the comments with PutFile (a refused lock sends it back to viewing). Older versions ignore the property
    // and, UserCanWrite being false, open the document read-only.
    ...(isCommentOnly(grant) && { UserCanOnlyComment: true }),
    ...(isSecureView(grant) && {
      DisablePrint: true,
      HidePrintOption: true,
      CopyPasteRestrictions: 'BlockAll',
    }),
  };
}
