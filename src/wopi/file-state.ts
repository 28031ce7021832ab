import type { Permissions } from '../auth/tokens.ts';
import { badRequest, notFound, unauthorized } from '../core/errors.ts';
import { asBodyError, limitBytes } from '../core/streams.ts';
import type { FileRecord, FileState, StoredBlob } from '../storage/types.ts';
import type { WopiHost, WopiRequest } from './context.ts';
import { H } from './headers.ts';

/** What every operation does with the file it names: check the token allows it, load it, describe it, store a body. */

export function requirePermission(req: WopiRequest, permission: keyof Permissions, what: string): void {
  if (!req.grant.permissions[permission]) throw unauthorized(`access token does not allow ${what}`);
}

export async function loadState(host: WopiHost, req: WopiRequest): Promise<FileState> {
  const state = await host.storage.catalog.getState(req.fileId, host.clock.now());
  if (!state) throw notFound('file not found');
  return state;
}

export const itemVersion = (file: FileRecord) => String(file.version);

/** ISO 8601 UTC with milliseconds: the one spelling CheckFileInfo and PutFile both give. */
export const lastModifiedTime = (file: FileRecord) => new Date(file.modifiedAt).toISOString();

/**
 * Streams the request body into the blob store, refusing more than the configured maximum and, when the client
 * declared a size (X-WOPI-Size), any other length. Memory use does not depend on the body's size.
 */
export async function receiveBody(host: WopiHost, req: WopiRequest, declaredSize?: number): Promise<StoredBlob> {
  const max = host.config.maxUploadBytes;
  // either declared size over the limit is refused before a byte is read
  const declared = Math.max(req.contentLength ?? 0, declaredSize ?? 0);
  const body = limitBytes(req.body, { max, declared });
  let blob: StoredBlob;
  try {
    blob = await host.storage.blobs.write(body);
  } catch (err) {
    throw asBodyError(err, req.body);
  }
  if (declaredSize !== undefined && blob.size !== declaredSize) {
    throw badRequest(`body has ${blob.size} bytes but ${H.size} says ${declaredSize}`);
  }
  return blob;
}
