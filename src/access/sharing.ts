import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, notFound, QuireError } from '../core/errors.ts';
import { EVENT } from '../documents/events.ts';
import type {
  AccessStore,
  Actor,
  FileRecord,
  Group,
  Guest,
  Principal,
  SecureView,
  Share,
  ShareLink,
  Storage,
  User,
} from '../storage/types.ts';
import { defaultPasswordHasher, type PasswordHasher } from '../users/passwords.ts';
import { isShareRole, type ShareRole } from './roles.ts';

export const MAX_WATERMARK_LENGTH = 200;
export const MAX_GROUP_NAME_LENGTH = 64;
export const MAX_GUEST_NAME_LENGTH = 64;
export const MIN_LINK_PASSWORD_LENGTH = 4;

/** What a share, a link or a group change is given by its caller, checked here once for the API and the CLI. */
export function checkRole(value: unknown): ShareRole {
  if (!isShareRole(value)) throw badRequest('"role" must be viewer, commenter or editor');
  return value;
}

export function checkSecureView(value: unknown): SecureView | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return { watermark: '' };
  if (typeof value === 'object' && !Array.isArray(value)) {
    const watermark = (value as { watermark?: unknown }).watermark ?? '';
    if (typeof watermark !== 'string' || watermark.length > MAX_WATERMARK_LENGTH)
      throw badRequest(`"secureView.watermark" must be text of at most ${MAX_WATERMARK_LENGTH} characters`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(watermark)) throw badRequest('"secureView.watermark" holds a control character');
    return { watermark };
  }
  throw badRequest('"secureView" must be true, false, or {"watermark": "…"}');
}

export function checkGroupName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (!name || name.length > MAX_GROUP_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))
    throw badRequest(`a group name is 1 to ${MAX_GROUP_NAME_LENGTH} characters, without control characters`);
  return name.normalize('NFC');
}

export const groupNameKey = (name: string) => name.normalize('NFC').toLowerCase();

/** A guest's name as given on a link's page: trimmed, at most 64 characters; empty means anonymous. */
export function checkGuestName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim().normalize('NFC') : '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (name.length > MAX_GUEST_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))
    throw badRequest(`a name is at most ${MAX_GUEST_NAME_LENGTH} characters, without control characters`);
  return name;
}

const principalDetails = (p: Principal) => ({ principal: `${p.kind}:${p.id}` });
const linkDetails = (l: ShareLink) => ({
  link: l.id,
  role: l.role,
  secureView: l.secureView !== null,
  password: l.passwordHash !== null,
  expiresAt: l.expiresAt,
  disabled: l.disabledAt !== null,
});

/**
 * Sharing a document with people, groups and links, and managing groups and accounts: the rules (who may be
 * shared with, what a link may carry) and the audit events, over the AccessStore. Who may call each of these is
 * the caller's to check (the owner or an admin for a document's shares and links; admins for groups and people).
 */
export class Sharing {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly hasher: PasswordHasher = defaultPasswordHasher,
  ) {}

  private get access(): AccessStore {
    if (!this.storage.access) throw new QuireError(501, 'this storage keeps no shares');
    return this.storage.access;
  }

  // ---- shares ----------------------------------------------------------------------------------------------------

  async share(
    file: FileRecord,
    input: { principal: Principal; role: ShareRole; secureView: SecureView | null },
    actor: Actor,
  ): Promise<Share> {
    const { principal } = input;
    let principalName: string;
    if (principal.kind === 'user') {
      const user = await this.storage.users?.findById(principal.id);
      if (!user || user.disabledAt) throw notFound('no such user');
      if (user.id === file.ownerId) throw conflict('the owner has the document already');
      principalName = user.displayName;
    } else {
      const group = await this.access.getGroup(principal.id);
      if (!group) throw notFound('no such group');
      principalName = group.name;
    }
    return this.access.putShare(
      {
        fileId: file.id,
        principal,
        role: input.role,
        secureView: input.secureView,
        createdAt: this.clock.now(),
        createdBy: actor.userId ?? '',
      },
      ({ before, after }) => ({
        type: before ? EVENT.shareChanged : EVENT.shareAdded,
        fileId: file.id,
        ...actor,
        details: {
          ...principalDetails(after.principal),
          // the name as it was: the activity page tells it even once the person or group is gone
          principalName,
          role: after.role,
          secureView: after.secureView !== null,
          ...(before && { was: before.role }),
        },
      }),
    );
  }

  async unshare(file: FileRecord, principal: Principal, actor: Actor): Promise<void> {
    const principalName = await this.nameOf(principal);
    const removed = await this.access.removeShare(file.id, principal, this.clock.now(), (share) => ({
      type: EVENT.shareRemoved,
      fileId: file.id,
      ...actor,
      details: { ...principalDetails(share.principal), ...(principalName && { principalName }), role: share.role },
    }));
    if (!removed) throw notFound('the document is not shared with them');
  }

  /** A person's display name or a group's name, for the audit trail; undefined when they are gone. */
  private async nameOf(principal: Principal): Promise<string | undefined> {
    if (principal.kind === 'user') return (await this.storage.users?.findById(principal.id))?.displayName;
    return (await this.access.getGroup(principal.id))?.name;
  }

  // ---- links -----------------------------------------------------------------------------------------------------

  async createLink(
    file: FileRecord,
    input: { role: ShareRole; secureView: SecureView | null; expiresAt: number | null; password: string | null },
    actor: Actor,
  ): Promise<ShareLink> {
    const now = this.clock.now();
    if (input.expiresAt !== null && input.expiresAt <= now) throw badRequest('"expiresAt" must be in the future');
    return this.access.createLink(
      {
        // 18 bytes: the link's URL is its only secret
        id: randomBytes(18).toString('base64url'),
        fileId: file.id,
        role: input.role,
        secureView: input.secureView,
        passwordHash: input.password === null ? null : await this.hashLinkPassword(input.password),
        expiresAt: input.expiresAt,
        disabledAt: null,
        createdAt: now,
        createdBy: actor.userId ?? '',
      },
      (link) => ({ type: EVENT.linkCreated, fileId: file.id, ...actor, details: linkDetails(link) }),
    );
  }

  async updateLink(
    file: FileRecord,
    linkId: string,
    change: {
      role?: ShareRole;
      secureView?: SecureView | null;
      expiresAt?: number | null;
      password?: string | null;
      disabled?: boolean;
    },
    actor: Actor,
  ): Promise<ShareLink> {
    const now = this.clock.now();
    const current = await this.access.getLink(linkId);
    if (!current || current.fileId !== file.id) throw notFound('no such link');
    if (change.expiresAt !== undefined && change.expiresAt !== null && change.expiresAt <= now)
      throw badRequest('"expiresAt" must be in the future');
    const updated = await this.access.updateLink(
      linkId,
      {
        ...(change.role !== undefined && { role: change.role }),
        ...(change.secureView !== undefined && { secureView: change.secureView }),
        ...(change.expiresAt !== undefined && { expiresAt: change.expiresAt }),
        ...(change.password !== undefined && {
          passwordHash: change.password === null ? null : await this.hashLinkPassword(change.password),
        }),
        ...(change.disabled !== undefined && {
          disabledAt: change.disabled ? (current.disabledAt ?? now) : null,
        }),
      },
      now,
      ({ after }) => ({ type: EVENT.linkChanged, fileId: file.id, ...actor, details: linkDetails(after) }),
    );
    if (!updated) throw notFound('no such link');
    return updated;
  }

  private async hashLinkPassword(password: string): Promise<string> {
    if (password.length < MIN_LINK_PASSWORD_LENGTH || password.length > 1024)
      throw badRequest(`a link password is ${MIN_LINK_PASSWORD_LENGTH} to 1024 characters`);
    return this.hasher.hash(password);
  }

  /** True when the link needs no password, or `password` is its password. */
  async linkPasswordMatches(link: ShareLink, password: string | undefined): Promise<boolean> {
    if (link.passwordHash === null) return true;
    if (!password || password.length > 1024) return false;
    return this.hasher.verify(link.passwordHash, password);
  }

  /** The link's guest named `name` (the same guest every time); null for a guest who gave no name (anonymous). */
  async guest(link: ShareLink, name: string): Promise<Guest | null> {
    if (name === '') return null;
    return this.access.guest(link.id, name, name.toLowerCase(), this.clock.now());
  }

  // ---- groups ----------------------------------------------------------------------------------------------------

  async createGroup(name: string, actor: Actor, source: Group['source'] = 'local'): Promise<Group> {
    const checked = checkGroupName(name);
    const group = await this.access.createGroup({
      name: checked,
      nameKey: groupNameKey(checked),
      source,
      createdAt: this.clock.now(),
    });
    await this.storage.events.append(
      { type: EVENT.groupCreated, ...actor, details: { group: group.id, name: group.name, source } },
      this.clock.now(),
    );
    return group;
  }

  async deleteGroup(groupId: string, actor: Actor): Promise<void> {
    const deleted = await this.access.deleteGroup(groupId, this.clock.now(), (group) => ({
      type: EVENT.groupDeleted,
      ...actor,
      details: { group: group.id, name: group.name },
    }));
    if (!deleted) throw notFound('no such group');
  }

  async addMember(groupId: string, user: User, actor: Actor): Promise<void> {
    const group = await this.access.getGroup(groupId);
    if (!group) throw notFound('no such group');
    await this.access.addMember(groupId, user.id);
    await this.storage.events.append(
      {
        type: EVENT.groupMemberAdded,
        ...actor,
        details: { group: groupId, name: group.name, member: user.id, memberName: user.displayName },
      },
      this.clock.now(),
    );
  }

  async removeMember(groupId: string, userId: string, actor: Actor): Promise<void> {
    const group = await this.access.getGroup(groupId);
    if (!group) throw notFound('no such group');
    const memberName = await this.nameOf({ kind: 'user', id: userId });
    if (!(await this.access.removeMember(groupId, userId))) throw notFound('not a member of the group');
    await this.storage.events.append(
      {
        type: EVENT.groupMemberRemoved,
        ...actor,
        details: { group: groupId, name: group.name, member: userId, ...(memberName && { memberName }) },
      },
      this.clock.now(),
    );
  }

  // ---- people ----------------------------------------------------------------------------------------------------

  /**
   * Disables an account (it signs in no more; its sign-ins end, so the access tokens minted in them stop working
   * within a second) or enables it again. An admin cannot disable themselves.
   */
  async setDisabled(user: User, disabled: boolean, actor: Actor): Promise<void> {
    const users = this.storage.users;
    if (!users) throw new QuireError(501, 'this storage keeps no users');
    if (disabled && actor.userId === user.id) throw conflict('you cannot disable your own account');
    const now = this.clock.now();
    await users.setDisabled(user.id, disabled ? now : null);
    if (disabled) await this.storage.access?.endSignInsOf(user.id, now);
    await this.storage.events.append(
      {
        type: disabled ? EVENT.userDisabled : EVENT.userEnabled,
        ...actor,
        details: { user: user.id, name: user.name, displayName: user.displayName },
      },
      now,
    );
  }
}
