import { Readable } from 'node:stream';
import type { Permissions } from '../auth/tokens.ts';
import type { FileRecord, FileState, StoredBlob } from '../storage/types.ts';
import { limitBytes, TooLargeError } from '../streams.ts';
import type { WopiHost, WopiRequest } from './context.ts';
import { badRequest, notFound, unauthorized, WopiError } from './errors.ts';
import { H } from './headers.ts';

/** Helpers more than one operation uses. */

export const itemVersion = (file: FileRecord) => String(file.version);

/** ISO 8601 UTC with milliseconds: the one spelling CheckFileInfo and PutFile both give. */
export const lastModifiedTime = (file: FileRecord) => new Date(file.modifiedAt).toISOString();

export function requirePermission(req: WopiRequest, permission: keyof Permissions, what: string): void {
  if (!req.grant.permissions[permission]) throw unauthorized(`access token does not allow ${what}`);
}

export async function loadState(host: WopiHost, req: WopiRequest): Promise<FileState> {
  const state = await host.storage.catalog.getState(req.fileId, host.clock.now());
  if (!state) throw notFound();
  return state;
}

/** 409 with the current lock ("" when unlocked), as every lock refusal must carry. */
export function lockConflict(currentLock: string, reason: string): WopiError {
  return new WopiError(409, reason, {
    headers: { [H.lock]: currentLock, [H.lockFailureReason]: reason },
  });
}

export function parseBooleanHeader(req: WopiRequest, name: string): boolean | undefined {
  const raw = req.header(name);
  if (raw === undefined || raw === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`${name} must be "true" or "false"`);
}

export function parseSizeHeader(req: WopiRequest, name: string): number | undefined {
  const raw = req.header(name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,16}$/.test(raw.trim())) throw badRequest(`${name} must be a non-negative integer`);
  return Number(raw.trim());
}

const tooLarge = (max: number) => new WopiError(413, `body is larger than this host's limit of ${max} bytes`);

/**
 * Streams the request body into the blob store, refusing more than the configured maximum and, when the client
 * declared a size (X-WOPI-Size), any other length. Memory use does not depend on the body's size.
 */
export async function receiveBody(host: WopiHost, req: WopiRequest, declaredSize?: number): Promise<StoredBlob> {
  const max = host.config.maxUploadBytes;
  if ((req.contentLength ?? 0) > max || (declaredSize ?? 0) > max) throw tooLarge(max);
  const source = req.body ?? Readable.from([]);
  let blob: StoredBlob;
  try {
    blob = await host.storage.blobs.write(limitBytes(source, max));
  } catch (err) {
    if (err instanceof TooLargeError) throw tooLarge(max);
    if (source.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      throw badRequest('request body ended before it was complete');
    }
    throw err;
  }
  if (declaredSize !== undefined && blob.size !== declaredSize) {
    throw badRequest(`body has ${blob.size} bytes but ${H.size} says ${declaredSize}`);
  }
  return blob;
}
