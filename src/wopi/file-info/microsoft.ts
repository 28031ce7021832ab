import { commonFileInfo, type FileInfoInput, HOST_PAGE_MESSAGES, isSecureView } from './common.ts';

/**
 * Microsoft 365 for the web: its required properties, and what Quire does not offer said explicitly. Its
 * CheckFileInfo has no comment-only mode, so a commenter reads only; it has no watermark and no property that turns
 * off downloading or exporting, so secure view is no print, no machine translation, no copy (CopyPasteRestrictions is
 * honoured by Excel for the web only) and no DownloadUrl.
 */
export function microsoftFileInfo(input: FileInfoInput) {
  return {
    ...commonFileInfo(input),
    ...HOST_PAGE_MESSAGES,
    SupportsCobalt: false,
    SupportsFolders: false,
    SupportsContainers: false,
    SupportsCoauth: false,
    UserCanAttend: false,
    UserCanPresent: false,
    AllowExternalMarketplace: false,
    ...(isSecureView(input.grant) && {
      DisablePrint: true,
      DisableTranslation: true,
      CopyPasteRestrictions: 'BlockAll',
    }),
  };
}
