import type { Access } from '../../access/policy.ts';
import type { FileState, RescuedSave, Storage, VersionRecord } from '../../storage/types.ts';

/** The JSON shapes of the API's answers, `file` and `version`, as the README documents them. */

export type NameOf = (userId: string) => Promise<string>;

/** Display names for user ids, each looked up once per response. */
export function userNames(storage: Storage): NameOf {
  const cache = new Map<string, Promise<string>>();
  return (id) => {
    let name = cache.get(id);
    if (!name) {
      name = (storage.users?.findById(id) ?? Promise.resolve(null)).then((u) => u?.displayName ?? id);
      cache.set(id, name);
    }
    return name;
  };
}

export async function fileView({ file, lock }: FileState, nameOf: NameOf, access?: Access) {
  const id = encodeURIComponent(file.id);
  return {
    id: file.id,
    name: file.name,
    size: file.size,
    version: file.version,
    modifiedAt: new Date(file.modifiedAt).toISOString(),
    modifiedBy: { id: file.modifiedBy, name: await nameOf(file.modifiedBy) },
    ownerId: file.ownerId,
    locked: lock !== null,
    ...(lock && { lockExpiresAt: new Date(lock.expiresAt).toISOString() }),
    // what the caller may do with it, and why
    ...(access && { role: access.role, via: access.via, secureView: access.secureView !== null }),
    urls: {
      edit: `/files/${id}/open?action=edit`,
      view: `/files/${id}/open?action=view`,
      download: `/api/files/${id}/content`,
      history: `/files/${id}`,
    },
  };
}

export async function versionView(v: VersionRecord, current: number, nameOf: NameOf) {
  return {
    version: v.version,
    current: v.version === current,
    size: v.size,
    sha256: v.sha256,
    createdAt: new Date(v.createdAt).toISOString(),
    author: { id: v.authorId, name: await nameOf(v.authorId) },
    source: v.source,
    ...(v.modifiedByUser !== undefined && { modifiedByUser: v.modifiedByUser }),
    ...(v.autosave !== undefined && { autosave: v.autosave }),
    ...(v.exitSave !== undefined && { exitSave: v.exitSave }),
    ...(v.fileConversion !== undefined && { fileConversion: v.fileConversion }),
    download: `/api/files/${encodeURIComponent(v.fileId)}/versions/${v.version}/content`,
  };
}

export async function rescuedView(r: RescuedSave, nameOf: NameOf) {
  const base = `/api/files/${encodeURIComponent(r.fileId)}/rescued/${r.id}`;
  return {
    id: r.id,
    createdAt: new Date(r.createdAt).toISOString(),
    author: { id: r.authorId, name: await nameOf(r.authorId) },
    size: r.size,
    sha256: r.sha256,
    reason: r.reason,
    source: r.source,
    ...(r.lock !== undefined && { lock: r.lock }),
    ...(r.editors !== undefined && { editors: r.editors }),
    ...(r.modifiedByUser !== undefined && { modifiedByUser: r.modifiedByUser }),
    ...(r.autosave !== undefined && { autosave: r.autosave }),
    ...(r.exitSave !== undefined && { exitSave: r.exitSave }),
    ...(r.fileConversion !== undefined && { fileConversion: r.fileConversion }),
    download: `${base}/content`,
    restore: `${base}/restore`,
  };
}
