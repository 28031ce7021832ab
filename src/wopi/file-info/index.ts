import type { Flavour } from '../../discovery/flavour.ts';
import { collaboraFileInfo } from './collabora.ts';
import { type FileInfoInput, genericFileInfo } from './common.ts';
import { microsoftFileInfo } from './microsoft.ts';
import { onlyofficeFileInfo } from './onlyoffice.ts';

const byFlavour: Record<Flavour, (input: FileInfoInput) => Record<string, unknown>> = {
  onlyoffice: onlyofficeFileInfo,
  collabora: collaboraFileInfo,
  microsoft: microsoftFileInfo,
  generic: genericFileInfo,
};

/** CheckFileInfo's JSON for the editor Quire is configured with. */
export function fileInfo(flavour: Flavour, input: FileInfoInput): Record<string, unknown> {
  return byFlavour[flavour](input);
}

export type { FileInfoInput };
