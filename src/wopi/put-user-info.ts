import { QuireError, TooLargeError } from '../core/errors.ts';
import { readCapped } from '../core/streams.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { loadState } from './file-state.ts';

/** Microsoft caps UserInfo at 1024 characters; the byte cap bounds what is read before that check. */
const MAX_USER_INFO_CHARS = 1024;
const MAX_USER_INFO_BYTES = MAX_USER_INFO_CHARS * 4;

/** PutUserInfo (X-WOPI-Override: PUT_USER_INFO): stores the body for this user and file; CheckFileInfo returns it. */
export async function putUserInfo(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  await loadState(host, req);
  const body = await readCapped(req.body, {
    max: MAX_USER_INFO_BYTES,
    declared: req.contentLength,
    tooLarge: () => new TooLargeError(MAX_USER_INFO_BYTES, `UserInfo is larger than ${MAX_USER_INFO_CHARS} characters`),
  });
  const info = body.toString('utf8');
  if ([...info].length > MAX_USER_INFO_CHARS) {
    throw new QuireError(400, `UserInfo is longer than ${MAX_USER_INFO_CHARS} characters`);
  }
  await host.storage.catalog.setUserInfo(req.fileId, req.grant.userId, info);
  return { status: 200 };
}
