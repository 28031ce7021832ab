import { type Access, linkProblem } from '../../access/policy.ts';
import type { ShareRole } from '../../access/roles.ts';
import type { FileState, Principal, RescuedSave, Storage, VersionRecord } from '../../storage/types.ts';

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

/** Who a document is shared with and how many of its links work now: the list's "Shared" marker. */
export interface SharingSummary {
  shares: Array<{ kind: Principal['kind']; id: string; name: string; role: ShareRole }>;
  links: number;
}

/**
 * The sharing summaries of the live documents `ownerId` owns (null: of all of them), keyed by document id; a
 * document shared with nobody and without a working link has none. A fixed number of reads for the whole list
 * (shares, links, people, groups), never one per document.
 */
export async function sharingSummaries(
  storage: Storage,
  ownerId: string | null,
  now: number,
): Promise<Map<string, SharingSummary>> {
  const summaries = new Map<string, SharingSummary>();
  if (!storage.access) return summaries;
  const { shares, links } = await storage.access.sharingOf(ownerId);
  const needsUsers = shares.some((s) => s.principal.kind === 'user');
  const needsGroups = shares.some((s) => s.principal.kind === 'group');
  const [users, groups] = await Promise.all([
    needsUsers ? (storage.users?.list() ?? []) : [],
    needsGroups ? storage.access.listGroups() : [],
  ]);
  const names = new Map<string, string>([
    ...users.map((u) => [`user:${u.id}`, u.displayName] as const),
    ...groups.map((g) => [`group:${g.id}`, g.name] as const),
  ]);
  const of = (fileId: string) => {
    const summary = summaries.get(fileId) ?? { shares: [], links: 0 };
    summaries.set(fileId, summary);
    return summary;
  };
  for (const share of shares) {
    const { kind, id } = share.principal;
    of(share.fileId).shares.push({ kind, id, name: names.get(`${kind}:${id}`) ?? id, role: share.role });
  }
  for (const link of links) if (linkProblem(link, now) === null) of(link.fileId).links++;
  return summaries;
}

/** A document as the API shows it; `base` is the path Quire is served under (every URL in it carries it). */
export async function fileView({ file, lock }: FileState, nameOf: NameOf, access?: Access, base = '') {
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
      edit: `${base}/files/${id}/open?action=edit`,
      view: `${base}/files/${id}/open?action=view`,
      download: `${base}/api/files/${id}/content`,
      history: `${base}/files/${id}`,
    },
  };
}

export async function versionView(v: VersionRecord, current: number, nameOf: NameOf, base = '') {
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
    download: `${base}/api/files/${encodeURIComponent(v.fileId)}/versions/${v.version}/content`,
  };
}

export async function rescuedView(r: RescuedSave, nameOf: NameOf, basePath = '') {
  const base = `${basePath}/api/files/${encodeURIComponent(r.fileId)}/rescued/${r.id}`;
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
