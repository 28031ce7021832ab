import type { Grant } from '../auth/tokens.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { fileUrlFor } from './file-info/file-url.ts';
import { fileInfo } from './file-info/index.ts';
import { loadState } from './file-state.ts';

/**
 * The last answer given for each grant (one per access token in use; a grant lives as long as the token cache
 * keeps it). An editor asks CheckFileInfo on every open and reconnect, and the answer only changes with what it is
 * made of, all of which is in the stamp; while the stamp holds, the answer is sent as it was.
 */
const answers = new WeakMap<Grant, { stamp: string; text: string }>();

/** CheckFileInfo (GET /wopi/files/{id}): the file, the caller's rights, and what the host supports. */
export async function checkFileInfo(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  const state = await loadState(host, req);
  const userInfo = await host.storage.catalog.getUserInfo(req.fileId, req.grant.userId);
  const { file } = state;
  const flavour = host.flavour();
  // everything the answer depends on: the file's version (content, size, time), name and owner, the caller's UserInfo,
  // the editor's flavour and where Quire is reached. The grant itself is the key: it is frozen, one per token, so its
  // role, guest and secure-view fields cannot change under a remembered answer
  const stamp = `${file.version}\u0000${file.modifiedAt}\u0000${file.name}\u0000${file.ownerId}\u0000${flavour}\u0000${host.urls.publicUrl}\u0000${userInfo}`;
  const known = answers.get(req.grant);
  let text = known?.stamp === stamp ? known.text : undefined;
  if (text === undefined) {
    text = JSON.stringify(fileInfo(flavour, { host, state, grant: req.grant, userInfo }));
    answers.set(req.grant, { stamp, text });
  }
  // signed afresh on every call (a local HMAC, no request), so a remembered answer never hands out a URL that is
  // about to expire; for the blob of the same state the answer describes
  const fileUrl = await fileUrlFor(host, flavour, req.grant, file);
  return { status: 200, jsonText: fileUrl === undefined ? text : withProperty(text, 'FileUrl', fileUrl) };
}

/** A serialized JSON object with one more property. */
const withProperty = (json: string, name: string, value: string) =>
  `${json.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(value)}}`;
