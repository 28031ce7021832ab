import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { fileInfo } from './file-info/index.ts';
import { loadState } from './file-state.ts';

/** CheckFileInfo (GET /wopi/files/{id}): the file, the caller's rights, and what the host supports. */
export async function checkFileInfo(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  const state = await loadState(host, req);
  const userInfo = await host.storage.catalog.getUserInfo(req.fileId, req.grant.userId);
  return { status: 200, json: fileInfo(host.flavour(), { host, state, grant: req.grant, userInfo }) };
}
