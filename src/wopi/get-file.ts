import { QuireError } from '../core/errors.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { itemVersion, loadState } from './file-state.ts';
import { H } from './headers.ts';
import { sizeHeader } from './request-headers.ts';

/** GetFile (GET …/contents): streams the current version. */
export async function getFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  const { file } = await loadState(host, req);
  const maxExpected = sizeHeader(req, H.maxExpectedSize);
  if (maxExpected !== undefined && file.size > maxExpected) {
    throw new QuireError(412, `file is ${file.size} bytes, more than ${H.maxExpectedSize} (${maxExpected})`);
  }
  return {
    status: 200,
    headers: {
      [H.itemVersion]: itemVersion(file),
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(file.size),
    },
    stream: host.storage.blobs.read(file.blobKey),
  };
}
