/**
 * Every kind of event Quire writes, named once. The protocol (wopi/) and what people do outside the editor
 * (documents/, web/) write the same kinds, so a reader (the audit page, live updates, webhooks) sees one vocabulary.
 */
export const EVENT = {
  /** A new document: imported, uploaded, made from a template, or saved next to another by an editor. */
  created: 'file.created',
  /** A new version from an editor (PutFile, or PutRelativeFile overwriting a file). */
  saved: 'file.saved',
  /** A save that arrived complete but was refused, kept beside the file (details: why). */
  rescued: 'save.rescued',
  /** An earlier version made the newest. */
  restored: 'file.restored',
  /** Old autosaves dropped from a file's history, each session's last kept (details: the version numbers, count). */
  versionsThinned: 'versions.thinned',
  renamed: 'file.renamed',
  deleted: 'file.deleted',
  /** Opened through Quire's host page (details: action view/edit). */
  opened: 'file.opened',
  /** Downloaded through the web app or its API. */
  downloaded: 'file.downloaded',
  lockTaken: 'lock.taken',
  /** UnlockAndRelock: the lock id changed hands without the file being unlocked. */
  lockChanged: 'lock.changed',
  lockReleased: 'lock.released',
  /** An admin or the owner took the lock away from an editor (details: the lock, why). */
  lockBroken: 'lock.broken',
  /** An access token was minted (CLI, library); the host page's opens are file.opened. */
  tokenMinted: 'token.minted',
  /** A document shared with a user or a group (details: principal, role, secure view), changed, or unshared. */
  shareAdded: 'share.added',
  shareChanged: 'share.changed',
  shareRemoved: 'share.removed',
  /** A share link made or changed (role, expiry, password, secure view, disabled). */
  linkCreated: 'link.created',
  linkChanged: 'link.changed',
  groupCreated: 'group.created',
  groupDeleted: 'group.deleted',
  groupMemberAdded: 'group.member.added',
  groupMemberRemoved: 'group.member.removed',
  /** An admin disabled an account (its sign-ins and tokens end), or enabled it again. */
  userDisabled: 'user.disabled',
  userEnabled: 'user.enabled',
  /** An admin made a service API key (details: its id, name, scopes, expiry; never the key). */
  apiKeyCreated: 'apikey.created',
  /** An admin revoked a service API key: it, and every token minted with it, stops working within a second. */
  apiKeyRevoked: 'apikey.revoked',
  /**
   * An admin registered a webhook, changed its URL, events or description, or removed it (details: its id, the
   * receiver's origin and path — never the query, which may hold a credential — and its events).
   */
  webhookCreated: 'webhook.created',
  webhookChanged: 'webhook.changed',
  webhookDeleted: 'webhook.deleted',
} as const;

export type EventType = (typeof EVENT)[keyof typeof EVENT];
