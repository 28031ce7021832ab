import { loadState } from './common.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { WopiError } from './errors.ts';

/** Microsoft caps UserInfo at 1024 characters; the byte cap bounds what is read before that check. */
const MAX_USER_INFO_CHARS = 1024;
const MAX_USER_INFO_BYTES = MAX_USER_INFO_CHARS * 4;

async function readSmallBody(req: WopiRequest): Promise<string> {
  if (!req.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_USER_INFO_BYTES)
      throw new WopiError(413, `UserInfo is larger than ${MAX_USER_INFO_CHARS} characters`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** PutUserInfo (X-WOPI-Override: PUT_USER_INFO): stores the body for this user and file; CheckFileInfo returns it. */
export async function putUserInfo(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  await loadState(host, req);
  const info = await readSmallBody(req);
  if ([...info].length > MAX_USER_INFO_CHARS) {
    throw new WopiError(400, `UserInfo is longer than ${MAX_USER_INFO_CHARS} characters`);
  }
  await host.storage.catalog.setUserInfo(req.fileId, req.grant.userId, info);
  return { status: 200 };
}
