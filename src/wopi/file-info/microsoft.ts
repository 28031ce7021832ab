import { commonFileInfo, type FileInfoInput, HOST_PAGE_MESSAGES } from './common.ts';

/** Microsoft 365 for the web: its required properties, and what Quire does not offer said explicitly. */
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
  };
}
