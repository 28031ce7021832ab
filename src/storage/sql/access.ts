import { randomBytes } from 'node:crypto';
import {
  type AccessStore,
  type Describe,
  FileNotFoundError,
  type Group,
  GroupExistsError,
  type Guest,
  type Principal,
  type SecureView,
  type Share,
  type ShareLink,
  type SignIn,
} from '../types.ts';
import { type SqlDatabase, type SqlExecutor, storable } from './database.ts';
import type { SqlEventLog } from './events.ts';

type Int8 = number | string;

interface ShareRow {
  file_id: string;
  principal: string;
  role: Share['role'];
  secure_view: string | null;
  created_at: Int8;
  created_by: string;
}

interface LinkRow {
  id: string;
  file_id: string;
  role: ShareLink['role'];
  secure_view: string | null;
  password_hash: string | null;
  expires_at: Int8 | null;
  disabled_at: Int8 | null;
  created_at: Int8;
  created_by: string;
}

interface GroupRow {
  id: string;
  name: string;
  source: Group['source'];
  created_at: Int8;
}

interface SignInRow {
  id: string;
  user_id: string;
  created_at: Int8;
  expires_at: Int8;
  ended_at: Int8 | null;
}

/** A principal as one column: `user:<id>` or `group:<id>`. */
const principalKey = (p: Principal) => `${p.kind}:${p.id}`;
function principalOf(key: string): Principal {
  const at = key.indexOf(':');
  return { kind: key.slice(0, at) as Principal['kind'], id: key.slice(at + 1) };
}

const secureViewText = (v: SecureView | null) => (v === null ? null : JSON.stringify(v));
const secureViewOf = (text: string | null): SecureView | null =>
  text === null ? null : { watermark: String((JSON.parse(text) as SecureView).watermark ?? '') };
const optionalNumber = (v: Int8 | null) => (v === null ? null : Number(v));

const toShare = (r: ShareRow): Share => ({
  fileId: r.file_id,
  principal: principalOf(r.principal),
  role: r.role,
  secureView: secureViewOf(r.secure_view),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
});

const toLink = (r: LinkRow): ShareLink => ({
  id: r.id,
  fileId: r.file_id,
  role: r.role,
  secureView: secureViewOf(r.secure_view),
  passwordHash: r.password_hash,
  expiresAt: optionalNumber(r.expires_at),
  disabledAt: optionalNumber(r.disabled_at),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
});

const toGroup = (r: GroupRow): Group => ({ id: r.id, name: r.name, source: r.source, createdAt: Number(r.created_at) });

const toSignIn = (r: SignInRow): SignIn => ({
  id: r.id,
  userId: r.user_id,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  endedAt: optionalNumber(r.ended_at),
});

/** Shares, links, guests, groups and sign-ins in the catalog's database, on either backend. */
export class SqlAccessStore implements AccessStore {
  private readonly sql;

  constructor(
    private readonly db: SqlDatabase,
    private readonly events: SqlEventLog,
  ) {
    const [files, shares, links, guests, groups, members, signIns] = [
      'files',
      'shares',
      'links',
      'link_guests',
      'groups',
      'group_members',
      'sign_ins',
    ].map((n) => db.dialect.table(n));
    const byName = `ORDER BY name_key${db.dialect.byteOrder}`;
    this.sql = {
      liveFile: `SELECT id FROM ${files} WHERE id = $1 AND deleted_at IS NULL`,
      share: `SELECT * FROM ${shares} WHERE file_id = $1 AND principal = $2`,
      upsertShare: `INSERT INTO ${shares} (file_id, principal, role, secure_view, created_at, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (file_id, principal) DO UPDATE SET role = excluded.role, secure_view = excluded.secure_view`,
      removeShare: `DELETE FROM ${shares} WHERE file_id = $1 AND principal = $2`,
      sharesOf: `SELECT * FROM ${shares} WHERE file_id = $1 ORDER BY created_at, principal`,
      sharesTo: (n: number) =>
        `SELECT s.* FROM ${shares} s JOIN ${files} f ON f.id = s.file_id AND f.deleted_at IS NULL
         WHERE s.principal IN (${Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ')})
         ORDER BY s.created_at DESC`,
      insertLink: `INSERT INTO ${links} (id, file_id, role, secure_view, password_hash, expires_at, disabled_at,
                     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      link: `SELECT * FROM ${links} WHERE id = $1`,
      updateLink: `UPDATE ${links} SET role = $2, secure_view = $3, password_hash = $4, expires_at = $5,
                     disabled_at = $6 WHERE id = $1`,
      linksOf: `SELECT * FROM ${links} WHERE file_id = $1 ORDER BY created_at`,
      // of live documents: one owner's (ownedBy), or everyone's
      sharesOfLive: (ownedBy: boolean) =>
        `SELECT s.* FROM ${shares} s JOIN ${files} f ON f.id = s.file_id AND f.deleted_at IS NULL
         ${ownedBy ? 'WHERE f.owner_id = $1' : ''} ORDER BY s.created_at, s.principal`,
      linksOfLive: (ownedBy: boolean) =>
        `SELECT l.* FROM ${links} l JOIN ${files} f ON f.id = l.file_id AND f.deleted_at IS NULL
         ${ownedBy ? 'WHERE f.owner_id = $1' : ''} ORDER BY l.created_at`,
      guestByName: `SELECT * FROM ${guests} WHERE link_id = $1 AND name_key = $2`,
      guestById: `SELECT * FROM ${guests} WHERE id = $1`,
      insertGuest: `INSERT INTO ${guests} (id, link_id, name, name_key, created_at) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (link_id, name_key) DO NOTHING`,
      insertGroup: `INSERT INTO ${groups} (id, name, name_key, source, created_at) VALUES ($1, $2, $3, $4, $5)`,
      group: `SELECT * FROM ${groups} WHERE id = $1`,
      groupByKey: `SELECT * FROM ${groups} WHERE name_key = $1`,
      groups: `SELECT * FROM ${groups} ${byName}`,
      deleteMembersOf: `DELETE FROM ${members} WHERE group_id = $1`,
      deleteSharesTo: `DELETE FROM ${shares} WHERE principal = $1`,
      deleteGroup: `DELETE FROM ${groups} WHERE id = $1`,
      addMember: `INSERT INTO ${members} (group_id, user_id) VALUES ($1, $2) ON CONFLICT (group_id, user_id) DO NOTHING`,
      removeMember: `DELETE FROM ${members} WHERE group_id = $1 AND user_id = $2`,
      members: `SELECT user_id FROM ${members} WHERE group_id = $1 ORDER BY user_id`,
      groupsOf: `SELECT g.* FROM ${groups} g JOIN ${members} m ON m.group_id = g.id WHERE m.user_id = $1
                 ORDER BY g.name_key${db.dialect.byteOrder}`,
      startSignIn: `INSERT INTO ${signIns} (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
      signIn: `SELECT * FROM ${signIns} WHERE id = $1`,
      endSignIn: `UPDATE ${signIns} SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`,
      endSignInsOf: `UPDATE ${signIns} SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL`,
    };
  }

  private async record<R>(tx: SqlExecutor, describe: Describe<R> | undefined, result: R, at: number): Promise<R> {
    const event = describe?.(result);
    if (event) await this.events.insert(tx, event, at);
    return result;
  }

  // ---- shares ----------------------------------------------------------------------------------------------------

  async putShare(share: Share, event?: Describe<{ before: Share | null; after: Share }>): Promise<Share> {
    return this.db.transaction(async (tx) => {
      if (!storable(share.fileId) || (await tx.all(this.sql.liveFile, [share.fileId])).length === 0)
        throw new FileNotFoundError(share.fileId);
      const key = principalKey(share.principal);
      const [old] = await tx.all<ShareRow>(this.sql.share, [share.fileId, key]);
      await tx.run(this.sql.upsertShare, [
        share.fileId,
        key,
        share.role,
        secureViewText(share.secureView),
        share.createdAt,
        share.createdBy,
      ]);
      const [row] = await tx.all<ShareRow>(this.sql.share, [share.fileId, key]);
      const after = toShare(row as ShareRow);
      await this.record(tx, event, { before: old ? toShare(old) : null, after }, share.createdAt);
      return after;
    });
  }

  async removeShare(fileId: string, principal: Principal, at: number, event?: Describe<Share>): Promise<boolean> {
    if (!storable(fileId) || !storable(principal.id)) return false;
    return this.db.transaction(async (tx) => {
      const key = principalKey(principal);
      const [old] = await tx.all<ShareRow>(this.sql.share, [fileId, key]);
      if (!old) return false;
      await tx.run(this.sql.removeShare, [fileId, key]);
      await this.record(tx, event, toShare(old), at);
      return true;
    });
  }

  async sharesOf(fileId: string): Promise<Share[]> {
    if (!storable(fileId)) return [];
    return (await this.db.all<ShareRow>(this.sql.sharesOf, [fileId])).map(toShare);
  }

  async sharesTo(principals: Principal[]): Promise<Share[]> {
    const keys = principals.filter((p) => storable(p.id)).map(principalKey);
    if (keys.length === 0) return [];
    return (await this.db.all<ShareRow>(this.sql.sharesTo(keys.length), keys)).map(toShare);
  }

  // ---- links and guests ------------------------------------------------------------------------------------------

  async createLink(link: ShareLink, event?: Describe<ShareLink>): Promise<ShareLink> {
    return this.db.transaction(async (tx) => {
      if (!storable(link.fileId) || (await tx.all(this.sql.liveFile, [link.fileId])).length === 0)
        throw new FileNotFoundError(link.fileId);
      await tx.run(this.sql.insertLink, [
        link.id,
        link.fileId,
        link.role,
        secureViewText(link.secureView),
        link.passwordHash,
        link.expiresAt,
        link.disabledAt,
        link.createdAt,
        link.createdBy,
      ]);
      return this.record(tx, event, link, link.createdAt);
    });
  }

  async updateLink(
    id: string,
    change: Partial<Pick<ShareLink, 'role' | 'secureView' | 'passwordHash' | 'expiresAt' | 'disabledAt'>>,
    at: number,
    event?: Describe<{ before: ShareLink; after: ShareLink }>,
  ): Promise<ShareLink | null> {
    if (!storable(id)) return null;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<LinkRow>(this.sql.link, [id]);
      if (!row) return null;
      const before = toLink(row);
      const after: ShareLink = { ...before, ...change };
      await tx.run(this.sql.updateLink, [
        id,
        after.role,
        secureViewText(after.secureView),
        after.passwordHash,
        after.expiresAt,
        after.disabledAt,
      ]);
      await this.record(tx, event, { before, after }, at);
      return after;
    });
  }

  async getLink(id: string): Promise<ShareLink | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<LinkRow>(this.sql.link, [id]);
    return row ? toLink(row) : null;
  }

  async linksOf(fileId: string): Promise<ShareLink[]> {
    if (!storable(fileId)) return [];
    return (await this.db.all<LinkRow>(this.sql.linksOf, [fileId])).map(toLink);
  }

  async sharingOf(ownerId: string | null): Promise<{ shares: Share[]; links: ShareLink[] }> {
    if (ownerId !== null && !storable(ownerId)) return { shares: [], links: [] };
    const args = ownerId === null ? [] : [ownerId];
    const [shares, links] = await Promise.all([
      this.db.all<ShareRow>(this.sql.sharesOfLive(ownerId !== null), args),
      this.db.all<LinkRow>(this.sql.linksOfLive(ownerId !== null), args),
    ]);
    return { shares: shares.map(toShare), links: links.map(toLink) };
  }

  async guest(linkId: string, name: string, nameKey: string, at: number): Promise<Guest> {
    // two first visits under one name race to one row: whoever inserts second reads the first one's guest
    await this.db.run(this.sql.insertGuest, [newGuestId(), linkId, name, nameKey, at]);
    const [row] = await this.db.all<{ id: string; link_id: string; name: string }>(this.sql.guestByName, [
      linkId,
      nameKey,
    ]);
    if (!row) throw new Error('guest row missing after insert');
    return { id: row.id, linkId: row.link_id, name: row.name };
  }

  async getGuest(id: string): Promise<Guest | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<{ id: string; link_id: string; name: string }>(this.sql.guestById, [id]);
    return row ? { id: row.id, linkId: row.link_id, name: row.name } : null;
  }

  // ---- groups ----------------------------------------------------------------------------------------------------

  async createGroup(group: {
    name: string;
    nameKey: string;
    source: Group['source'];
    createdAt: number;
  }): Promise<Group> {
    const id = randomBytes(12).toString('hex');
    try {
      await this.db.run(this.sql.insertGroup, [id, group.name, group.nameKey, group.source, group.createdAt]);
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new GroupExistsError(group.name);
      throw err;
    }
    return { id, name: group.name, source: group.source, createdAt: group.createdAt };
  }

  async getGroup(id: string): Promise<Group | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<GroupRow>(this.sql.group, [id]);
    return row ? toGroup(row) : null;
  }

  async findGroup(nameKey: string): Promise<Group | null> {
    if (!storable(nameKey)) return null;
    const [row] = await this.db.all<GroupRow>(this.sql.groupByKey, [nameKey]);
    return row ? toGroup(row) : null;
  }

  async listGroups(): Promise<Group[]> {
    return (await this.db.all<GroupRow>(this.sql.groups)).map(toGroup);
  }

  async deleteGroup(id: string, at: number, event?: Describe<Group>): Promise<boolean> {
    if (!storable(id)) return false;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<GroupRow>(this.sql.group, [id]);
      if (!row) return false;
      await tx.run(this.sql.deleteMembersOf, [id]);
      await tx.run(this.sql.deleteSharesTo, [principalKey({ kind: 'group', id })]);
      await tx.run(this.sql.deleteGroup, [id]);
      await this.record(tx, event, toGroup(row), at);
      return true;
    });
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    await this.db.run(this.sql.addMember, [groupId, userId]);
  }

  async removeMember(groupId: string, userId: string): Promise<boolean> {
    if (!storable(groupId) || !storable(userId)) return false;
    return (await this.db.run(this.sql.removeMember, [groupId, userId])) > 0;
  }

  async members(groupId: string): Promise<string[]> {
    if (!storable(groupId)) return [];
    return (await this.db.all<{ user_id: string }>(this.sql.members, [groupId])).map((r) => r.user_id);
  }

  async groupsOf(userId: string): Promise<Group[]> {
    if (!storable(userId)) return [];
    return (await this.db.all<GroupRow>(this.sql.groupsOf, [userId])).map(toGroup);
  }

  // ---- sign-ins --------------------------------------------------------------------------------------------------

  async startSignIn(signIn: Omit<SignIn, 'endedAt'>): Promise<void> {
    await this.db.run(this.sql.startSignIn, [signIn.id, signIn.userId, signIn.createdAt, signIn.expiresAt]);
  }

  async getSignIn(id: string): Promise<SignIn | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<SignInRow>(this.sql.signIn, [id]);
    return row ? toSignIn(row) : null;
  }

  async endSignIn(id: string, at: number): Promise<void> {
    if (storable(id)) await this.db.run(this.sql.endSignIn, [id, at]);
  }

  async endSignInsOf(userId: string, at: number): Promise<number> {
    if (!storable(userId)) return 0;
    return this.db.run(this.sql.endSignInsOf, [userId, at]);
  }
}

// 16 bytes: a guest id is a UserId editors see, and must not be guessable from another
const newGuestId = () => `guest-${randomBytes(16).toString('hex')}`;
