import type { Grant } from '../auth/tokens.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
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
  if (known?.stamp === stamp) return { status: 200, jsonText: known.text };
  const text = JSON.stringify(fileInfo(flavour, { host, state, grant: req.grant, userInfo }));
  answers.set(req.grant, { stamp, text });
  return { status: 200, jsonText: text };
}
