import type { ClientFlavour } from '../context.ts';
import { collaboraFileInfo } from './collabora.ts';
import { commonFileInfo, type FileInfoInput } from './common.ts';
import { microsoftFileInfo } from './microsoft.ts';
import { onlyofficeFileInfo } from './onlyoffice.ts';

const byFlavour: Record<ClientFlavour, (input: FileInfoInput) => Record<string, unknown>> = {
  onlyoffice: onlyofficeFileInfo,
  collabora: collaboraFileInfo,
  microsoft: microsoftFileInfo,
  generic: commonFileInfo,
};

/** CheckFileInfo's JSON for the editor Quire is configured with. */
export function fileInfo(flavour: ClientFlavour, input: FileInfoInput): Record<string, unknown> {
  return byFlavour[flavour](input);
}

export type { FileInfoInput };
