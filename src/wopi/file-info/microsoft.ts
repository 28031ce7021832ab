import { commonFileInfo, type FileInfoInput } from './common.ts';

/** Microsoft 365 for the web: its required properties, and what Quire does not offer said explicitly. */
export function microsoftFileInfo(input: FileInfoInput) {
  return {
    ...commonFileInfo(input),
    ClosePostMessage: true,
    EditModePostMessage: true,
    FileVersionPostMessage: true,
    SupportsCobalt: false,
    SupportsFolders: false,
    SupportsContainers: false,
    SupportsCoauth: false,
    UserCanAttend: false,
    UserCanPresent: false,
    AllowExternalMarketplace: false,
  };
}
