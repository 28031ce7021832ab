import type { Clock } from '../core/clock.ts';
import type { FileRecord, Guest, Principal, SecureView, Share, ShareLink, Storage, User } from '../storage/types.ts';
import { atLeast, type Role, rank } from './roles.ts';

/** Who asks: a person with an account, or a guest who came through a link. */
export type Subject = { kind: 'user'; user: User } | { kind: 'guest'; guest: Guest; link: ShareLink };

/** What a subject may do with one document, and what gave it. */
export interface Access {
  role: Role;
  /**
   * What gave it: Quire's own reasons (an admin, the owner, a share to the person or a group, a link), or `app` when
   * an embedding app's own rule did (`QuireOptions.access`) and none of those words fits.
   */
  via: 'admin' | 'owner' | 'share' | 'group' | 'link' | 'app';
  /** Set when the document may be shown but not handed over (no download, print, export or copy). */
  secureView: SecureView | null;
}

/** Why a link cannot be used now, or null when it can. */
export function linkProblem(link: ShareLink, now: number): string | null {
  if (link.disabledAt !== null && link.disabledAt <= now) return 'this link has been disabled';
  if (link.expiresAt !== null && link.expiresAt <= now) return 'this link has expired';
  return null;
}

/**
 * Who may do what with a document: the one place the WOPI endpoint (every token, PutRelativeFile's overwrite), the
 * host page, the guest pages, the JSON API, the event API and the live stream ask. An app embedding Quire may bring
 * its own (`QuireOptions.access`); `AccessPolicy` is Quire's. Roles, weakest first: viewer, commenter, editor, owner
 * (see access/roles.ts for what each may do).
 */
export interface AccessRules {
  /**
   * What `subject` may do with `file`, and why; null when nothing (the document then answers 404 to them, as if it did
   * not exist). Asked on every WOPI request (remembered for a second per token) and every page: keep it fast.
   */
  accessTo(subject: Subject, file: FileRecord): Promise<Access | null>;
  /** The ids of the live documents `user` may see, for lists, the audit trail and live updates; null: every one. */
  visibleFileIds(user: User): Promise<string[] | null>;
}

/** True when `subject` has at least `role` on `file` under `rules`. */
export async function allows(rules: AccessRules, subject: Subject, file: FileRecord, role: Role): Promise<boolean> {
  const access = await rules.accessTo(subject, file);
  return access !== null && atLeast(access.role, role);
}

/**
 * Quire's own access rules, in one place for the WOPI endpoint and the web app. Admins and the owner have the
 * document; otherwise the strongest share to the user or one of their groups (the one without secure view when two
 * give the same role); a link's guest has what the link gives while it is live. Deleted users have nothing.
 */
export class AccessPolicy implements AccessRules {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  async accessTo(subject: Subject, file: FileRecord): Promise<Access | null> {
    if (subject.kind === 'guest') {
      const { link } = subject;
      if (link.fileId !== file.id || linkProblem(link, this.clock.now()) !== null) return null;
      return { role: link.role, via: 'link', secureView: link.secureView };
    }
    const { user } = subject;
    if (user.disabledAt !== undefined && user.disabledAt !== null) return null;
    if (file.ownerId === user.id) return { role: 'owner', via: 'owner', secureView: null };
    if (user.isAdmin) return { role: 'owner', via: 'admin', secureView: null };
    const access = this.storage.access;
    if (!access) return null;
    const [shares, groups] = await Promise.all([access.sharesOf(file.id), access.groupsOf(user.id)]);
    const mine = new Set([`user:${user.id}`, ...groups.map((g) => `group:${g.id}`)]);
    let best: Share | null = null;
    for (const share of shares) {
      if (!mine.has(`${share.principal.kind}:${share.principal.id}`)) continue;
      if (best === null || rank(share.role) > rank(best.role)) best = share;
      else if (share.role === best.role && best.secureView !== null && share.secureView === null) best = share;
    }
    if (!best) return null;
    return { role: best.role, via: best.principal.kind === 'user' ? 'share' : 'group', secureView: best.secureView };
  }

  /** True when `subject` has at least `role` on `file`. */
  async allows(subject: Subject, file: FileRecord, role: Role): Promise<boolean> {
    const access = await this.accessTo(subject, file);
    return access !== null && atLeast(access.role, role);
  }

  /** The ids of the live documents `user` may see; null for an admin (every document). */
  async visibleFileIds(user: User): Promise<string[] | null> {
    if (user.isAdmin) return null;
    if (user.disabledAt) return [];
    const owned = (await this.storage.catalog.listFiles()).filter((f) => f.ownerId === user.id).map((f) => f.id);
    const shared = (await this.storage.access?.sharesTo(await this.principalsOf(user))) ?? [];
    return [...new Set([...owned, ...shared.map((s) => s.fileId)])];
  }

  /** The principals a user is reached through: themselves and each of their groups. */
  async principalsOf(user: User): Promise<Principal[]> {
    const groups = (await this.storage.access?.groupsOf(user.id)) ?? [];
    return [{ kind: 'user', id: user.id }, ...groups.map((g) => ({ kind: 'group' as const, id: g.id }))];
  }
}
