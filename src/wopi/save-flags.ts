import type { SaveFlags } from '../storage/types.ts';
import { parseBooleanHeader } from './common.ts';
import type { WopiRequest } from './context.ts';
import { SAVE_FLAG, SAVE_FLAG_PREFIXES } from './headers.ts';

/** Reads one Collabora/ONLYOFFICE save header under either spelling (X-COOL-WOPI-…, X-LOOL-WOPI-…). */
export function saveHeader(req: WopiRequest, suffix: string): string | undefined {
  for (const prefix of SAVE_FLAG_PREFIXES) {
    const v = req.header(prefix + suffix);
    if (v !== undefined) return v;
  }
  return undefined;
}

function flag(req: WopiRequest, suffix: string): boolean | undefined {
  const name = SAVE_FLAG_PREFIXES.map((p) => p + suffix).find((n) => req.header(n) !== undefined);
  return name === undefined ? undefined : parseBooleanHeader(req, name);
}

/** The save flags recorded with a new version: was it a user's change, an autosave, the save on close. */
export function readSaveFlags(req: WopiRequest): SaveFlags {
  const flags: SaveFlags = {};
  const modifiedByUser = flag(req, SAVE_FLAG.modifiedByUser);
  const autosave = flag(req, SAVE_FLAG.autosave);
  const exitSave = flag(req, SAVE_FLAG.exitSave);
  if (modifiedByUser !== undefined) flags.modifiedByUser = modifiedByUser;
  if (autosave !== undefined) flags.autosave = autosave;
  if (exitSave !== undefined) flags.exitSave = exitSave;
  return flags;
}
