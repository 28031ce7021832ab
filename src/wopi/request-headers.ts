import { badRequest } from '../core/errors.ts';
import { NameError } from '../documents/names.ts';
import type { SaveFlags } from '../storage/types.ts';
import type { WopiRequest } from './context.ts';
import { H, SAVE_FLAG, SAVE_FLAG_PREFIXES } from './headers.ts';
import { decodeNameHeader } from './name-header.ts';

/**
 * Every reader of a WOPI request header: what a well-formed value is, and the 400 a malformed one gets. Operations
 * read headers only through these, so each header is parsed the same way wherever it appears.
 */

/** Lock ids: opaque, up to 1024 printable ASCII characters (SupportsExtendedLockLength). */
export const MAX_LOCK_LENGTH = 1024;
const LOCK_CHARS = /^[\x20-\x7e]+$/;

export function booleanHeader(req: WopiRequest, name: string): boolean | undefined {
  const raw = req.header(name);
  if (raw === undefined || raw === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`${name} must be "true" or "false"`);
}

export function sizeHeader(req: WopiRequest, name: string): number | undefined {
  const raw = req.header(name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,16}$/.test(raw.trim())) throw badRequest(`${name} must be a non-negative integer`);
  return Number(raw.trim());
}

/** A lock header that may be absent; a present one must still be well-formed. */
export function optionalLock(req: WopiRequest, name: string = H.lock): string | undefined {
  const value = req.header(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_LOCK_LENGTH) throw badRequest(`${name} is longer than ${MAX_LOCK_LENGTH} characters`);
  if (!LOCK_CHARS.test(value)) throw badRequest(`${name} must be printable ASCII`);
  return value;
}

/** A lock header the operation requires. */
export function requiredLock(req: WopiRequest, name: string = H.lock): string {
  const value = optionalLock(req, name);
  if (value === undefined) throw badRequest(`${name} is required and must not be empty`);
  return value;
}

/**
 * A file name sent UTF-7 encoded (X-WOPI-SuggestedTarget, RelativeTarget, RequestedName), decoded; undefined when
 * absent. A malformed one is refused with `refuse`, which by default names the header in a 400.
 */
export function nameHeader(
  req: WopiRequest,
  name: string,
  refuse: (reason: string) => Error = (reason) => badRequest(`${name}: ${reason}`),
): string | undefined {
  const raw = req.header(name);
  if (raw === undefined) return undefined;
  try {
    return decodeNameHeader(raw);
  } catch (err) {
    if (err instanceof NameError) throw refuse(err.message);
    throw err;
  }
}

/** One Collabora/ONLYOFFICE save header under either spelling (X-COOL-WOPI-…, X-LOOL-WOPI-…). */
function saveHeaderName(req: WopiRequest, suffix: string): string | undefined {
  return SAVE_FLAG_PREFIXES.map((p) => p + suffix).find((n) => req.header(n) !== undefined);
}

/** X-COOL-WOPI-Timestamp / X-LOOL-WOPI-Timestamp as ms since epoch, when sent. */
export function editorTimestamp(req: WopiRequest): number | undefined {
  const name = saveHeaderName(req, SAVE_FLAG.timestamp);
  const raw = name === undefined ? undefined : req.header(name);
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw badRequest(`timestamp header is not an ISO 8601 time: ${JSON.stringify(raw)}`);
  return ms;
}

/** The save flags recorded with a new version: was it a user's change, an autosave, the save on close. */
export function saveFlags(req: WopiRequest): SaveFlags {
  const flags: SaveFlags = {};
  const read = (suffix: string) => {
    const name = saveHeaderName(req, suffix);
    return name === undefined ? undefined : booleanHeader(req, name);
  };
  const modifiedByUser = read(SAVE_FLAG.modifiedByUser);
  const autosave = read(SAVE_FLAG.autosave);
  const exitSave = read(SAVE_FLAG.exitSave);
  if (modifiedByUser !== undefined) flags.modifiedByUser = modifiedByUser;
  if (autosave !== undefined) flags.autosave = autosave;
  if (exitSave !== undefined) flags.exitSave = exitSave;
  return flags;
}
