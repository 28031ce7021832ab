import type { Readable } from 'node:stream';
import { QuireError } from '../core/errors.ts';

/**
 * What Quire needs from storage. Everything above this floor talks only to these interfaces; SQLite (embedded) and
 * PostgreSQL implement them from one set of SQL rules (sql/), and test/contract/ proves every implementation with
 * the same suites.
 */

/** Content-addressed, immutable bytes. */
export interface StoredBlob {
  /** Key to read the bytes back with (the SHA-256 in hex for the filesystem store). */
  key: string;
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

export interface BlobStore {
  /**
   * Streams `source` into the store; resolves once the bytes are durable (fsynced). Rejects if `source` fails.
   * Writing bytes the store already holds counts as writing them again: the blob's `writtenAt` moves to the write.
   */
  write(source: Readable): Promise<StoredBlob>;
  read(key: string): Readable;
  has(key: string): Promise<boolean>;
  /**
   * Optional: a URL anyone may GET, with no credential of their own and for `ttlSeconds` only, that answers exactly
   * the bytes of blob `key` (CheckFileInfo's FileUrl). The URL is the credential, so a store offers this only when
   * it can make one that is signed, expires, and cannot be turned into a URL of other bytes (S3's presigned GET of a
   * content-addressed key). Stores that serve bytes only through Quire (the file store) leave it out.
   */
  urlFor?(key: string, ttlSeconds: number): Promise<string>;

  // ---- for garbage collection of blobs no version or rescued save references -----------------------------------

  /** Every blob held, with its size and when it was last written or touched (ms since epoch, the store's time). */
  list(): AsyncIterable<BlobEntry>;
  /**
   * Marks a blob as just written, for a change about to reference bytes it did not write itself (a restore), so
   * that collection's grace period covers the new reference. False when the store does not hold the blob (then
   * nothing may reference it).
   */
  touch(key: string): Promise<boolean>;
  /**
   * Removes the blob if it was last written or touched before `writtenBefore`, checking that and removing it as one
   * step: a write or touch that lands while collection runs keeps the blob. True when it removed it; false when it
   * kept it or holds no such blob.
   */
  remove(key: string, writtenBefore: number): Promise<boolean>;
}

export interface BlobEntry {
  key: string;
  size: number;
  /** When the blob was last written or touched (ms since epoch). */
  writtenAt: number;
}

export interface FileRecord {
  id: string;
  name: string;
  ownerId: string;
  createdAt: number;
  /** Number of the head version: 1 for the first, +1 for every content change; never repeats for a file. */
  version: number;
  size: number;
  sha256: string;
  blobKey: string;
  /** When the content last changed (ms since epoch); strictly increases from one version to the next. */
  modifiedAt: number;
  modifiedBy: string;
}

export interface LockRecord {
  value: string;
  expiresAt: number;
  /**
   * Kept by the lock store, not by whoever decides a lock: when this lock id was taken (an UnlockAndRelock takes a
   * new one), and when it was last set or refreshed. Absent for a lock written before Quire recorded them.
   */
  takenAt?: number | undefined;
  refreshedAt?: number | undefined;
}

/** A file with its lock as of one instant (`lock` is null when unlocked or expired). */
export interface FileState {
  file: FileRecord;
  lock: LockRecord | null;
}

/**
 * Runs inside the storage transaction that makes a change, against the state that change will replace; throwing
 * aborts the change. This is how a lock check and the write it guards happen atomically.
 */
export type Guard = (state: FileState) => void;

export type VersionSource = 'import' | 'put' | 'put-relative' | 'restore';

export interface SaveFlags {
  modifiedByUser?: boolean;
  autosave?: boolean;
  exitSave?: boolean;
  fileConversion?: boolean;
}

export interface NewVersion {
  blob: StoredBlob;
  authorId: string;
  /** User ids who contributed (X-WOPI-Editors), as sent. */
  editors?: string;
  flags?: SaveFlags;
  source: VersionSource;
}

/** Bytes a client sent, as kept: a version, or a rescued save. */
export interface StoredSave extends SaveFlags {
  fileId: string;
  size: number;
  sha256: string;
  blobKey: string;
  createdAt: number;
  authorId: string;
  editors?: string;
}

export interface VersionRecord extends StoredSave {
  version: number;
  source: VersionSource;
}

/**
 * A save that arrived complete but was refused (the lock did not match, the file changed meanwhile …): kept beside
 * the file's versions, never its head, so the edit is not lost; it can be downloaded or restored as the newest.
 */
export interface RescuedSave extends StoredSave {
  id: number;
  source: 'put' | 'put-relative';
  /** Why the save was refused, as the client was told. */
  reason: string;
  /** The lock the client sent with it, if any. */
  lock?: string;
}

export interface NewRescuedSave extends Omit<NewVersion, 'source'> {
  source: 'put' | 'put-relative';
  reason: string;
  lock?: string | undefined;
}

/**
 * Something that happened that users or integrators may need to know about: the one record audit, live updates and
 * webhooks read from. A change's event is written in the same transaction as the change, so there is never a change
 * without its event or an event without its change.
 */
export interface NewEvent {
  /** What happened, e.g. 'file.saved', 'lock.taken' (see EVENT_TYPES in wopi/ and documents/). */
  type: string;
  fileId?: string | undefined;
  /** Who did it. */
  userId?: string | undefined;
  userName?: string | undefined;
  /** Where the request came from. */
  address?: string | undefined;
  /** Which client sent it: the editor's flavour or a User-Agent. */
  client?: string | undefined;
  /** The WOPI client's correlation and session ids (X-WOPI-CorrelationId, X-WOPI-SessionId), when sent. */
  correlationId?: string | undefined;
  sessionId?: string | undefined;
  /** Whatever else the event carries (a version number, the old and new name …), as JSON. */
  details?: Record<string, unknown> | undefined;
}

/** Who did something, and from where: the part of an event every request knows. */
export type Actor = Pick<NewEvent, 'userId' | 'userName' | 'address' | 'client' | 'correlationId' | 'sessionId'>;

export interface EventRecord extends NewEvent {
  /** Increases with every event; a reader that remembers the last id it saw misses nothing. */
  id: number;
  /** ms since epoch */
  at: number;
}

export interface EventQuery {
  fileId?: string;
  userId?: string;
  /** Only events after this id (a live reader's cursor). */
  afterId?: number;
  /** Only events before this id (paging back through history). */
  beforeId?: number;
  /** Only events on these files or done by this user (what someone who is not an admin may read). */
  visibleTo?: { fileIds: string[]; userId: string };
  /** At most this many, newest first unless `afterId` is given (then oldest first). */
  limit: number;
}

export interface EventLog {
  /** Records an event that comes with no change (an open, a download, a token minted). */
  append(event: NewEvent, at: number): Promise<EventRecord>;
  list(query: EventQuery): Promise<EventRecord[]>;
  /** Removes events older than `before` (retention); answers how many. */
  prune(before: number): Promise<number>;
}

/** How a change describes itself as an event, once it knows its result (the new version, the name it got …). */
export type Describe<R> = (result: R) => NewEvent | null;

/** What Catalog.replaceByName is given. */
export interface ReplaceByName {
  name: string;
  ownerId: string;
  version: NewVersion;
  now: number;
  guard: Guard;
  event?: Describe<CreatedFile>;
}

export interface CreatedFile {
  file: FileRecord;
  /** True when an existing file (same name) received a new version instead of a file being created. */
  replaced: boolean;
}

export interface Catalog {
  getFile(id: string): Promise<FileRecord | null>;
  getState(id: string, now: number): Promise<FileState | null>;
  findByName(name: string): Promise<FileRecord | null>;
  listFiles(): Promise<FileRecord[]>;
  /** Every file with its lock as of `now` (the web page's list). */
  listStates(now: number): Promise<FileState[]>;
  getVersion(id: string, version: number): Promise<VersionRecord | null>;
  listVersions(id: string): Promise<VersionRecord[]>;

  /**
   * Creates a file under the first of `names` that is free (checked and claimed in one transaction).
   * Throws NameTakenError when none is.
   */
  createFile(input: {
    names: Iterable<string>;
    ownerId: string;
    version: NewVersion;
    now: number;
    event?: Describe<FileRecord>;
  }): Promise<FileRecord>;

  /**
   * Writes to the file called `name`: a new version of it when it exists (after `guard` passes on its state),
   * else a new file with that name.
   */
  replaceByName(input: ReplaceByName): Promise<CreatedFile>;

  /** Moves the file's head to a new version after `guard` passes, in one transaction. */
  commitVersion(
    id: string,
    version: NewVersion,
    now: number,
    guard: Guard,
    event?: Describe<FileRecord>,
  ): Promise<FileRecord>;

  /** Renames to the first free name of `names` after `guard` passes. Throws NameTakenError when none is. */
  renameFile(
    id: string,
    names: Iterable<string>,
    now: number,
    guard: Guard,
    event?: Describe<{ before: FileRecord; after: FileRecord }>,
  ): Promise<FileRecord>;

  /** Removes the file from the catalog (its versions are kept) after `guard` passes. */
  deleteFile(id: string, now: number, guard: Guard, event?: Describe<FileRecord>): Promise<void>;

  /** Keeps a refused save beside the file (its head does not move). */
  rescue(fileId: string, save: NewRescuedSave, now: number, event?: Describe<RescuedSave>): Promise<RescuedSave>;
  /** A file's rescued saves, newest first. */
  listRescued(fileId: string): Promise<RescuedSave[]>;
  getRescued(fileId: string, id: number): Promise<RescuedSave | null>;
  /** Forgets rescued saves older than `before` (their blobs are left to blob GC); answers how many. */
  pruneRescued(before: number): Promise<number>;

  getUserInfo(fileId: string, userId: string): Promise<string | null>;
  setUserInfo(fileId: string, userId: string, info: string): Promise<void>;

  /**
   * Drops old autosaves that are not the last of their editing session (the rule: storage/thinning.ts) from every
   * live file: each file's in one transaction, with the event `event` describes of it. Only versions created before
   * `olderThan` go; the head, and every version that is not an autosave, stay; kept versions keep their numbers.
   * Their blobs are left to blob GC. Answers what it dropped, per file.
   */
  thinAutosaves(olderThan: number, now: number, event?: Describe<ThinnedVersions>): Promise<ThinnedVersions[]>;
  /**
   * The key of every blob a version (of any file, deleted ones included) or a rescued save references: what blob
   * GC must keep.
   */
  referencedBlobKeys(): Promise<Set<string>>;
}

/** What thinning dropped from one file's history. */
export interface ThinnedVersions {
  fileId: string;
  /** The dropped version numbers, ascending. */
  versions: number[];
}

/**
 * Compare-and-set on a file's lock. `decide` sees the current lock (null if none or expired) and returns the lock
 * to store (null to clear) or throws to change nothing; the read and the write are one atomic step.
 */
export interface LockStore {
  get(fileId: string, now: number): Promise<LockRecord | null>;
  update(
    fileId: string,
    now: number,
    decide: (current: LockRecord | null, file: FileRecord) => LockRecord | null,
    event?: Describe<{ before: LockRecord | null; after: LockRecord | null; file: FileRecord }>,
  ): Promise<FileState>;
  /**
   * Releases every live lock that nobody has set, refreshed or saved under since `silentSince` (an editor that went
   * away without unlocking), each in its own transaction that checks again, so a refresh or save that lands first
   * keeps its lock. Locks written before Quire recorded refreshes are left to expire. Resolves to what it released.
   */
  releaseSilent(
    silentSince: number,
    now: number,
    event?: Describe<{ lock: LockRecord; file: FileRecord }>,
  ): Promise<Array<{ lock: LockRecord; file: FileRecord }>>;
}

/** A person who signs in to Quire's pages: who is browsing, and who is editing. */
export interface User {
  id: string;
  /** What the person signs in with; unique without regard to case. */
  name: string;
  /** What editors and pages show. */
  displayName: string;
  isAdmin: boolean;
  /** ms since epoch */
  createdAt: number;
  /** When an admin removed the account: it signs in no more and its access ends. Absent or null while active. */
  disabledAt?: number | null;
}

/** A user with their password hash (null for accounts that sign in through a trusted proxy header). */
export interface UserRecord extends User {
  passwordHash: string | null;
}

/**
 * Where users are kept. Only persistence: the rules for names and passwords, and hashing, live above
 * (users/accounts.ts), once for every store.
 */
export interface UserStore {
  /** Stores a new user; throws UserExistsError when `nameKey` is taken. */
  insert(user: {
    name: string;
    nameKey: string;
    displayName: string;
    passwordHash: string | null;
    isAdmin: boolean;
    createdAt: number;
  }): Promise<User>;
  findByKey(nameKey: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  /** Sets the hash; with `expected`, only if the stored hash is still that one. True when it was set. */
  setPasswordHash(id: string, hash: string, expected?: string): Promise<boolean>;
  /** Every user, by name key. */
  list(): Promise<User[]>;
  /** Disables the account from `at` (null enables it again); false when there is no such user. */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  setAdmin(id: string, isAdmin: boolean): Promise<boolean>;
}

/** Who a share is for: one user, or every member of a group. */
export interface Principal {
  kind: 'user' | 'group';
  id: string;
}

/**
 * Secure view: the document is shown, not handed over. No download, print, export or copy in the editor (each
 * editor's own CheckFileInfo properties) and no download through Quire; `watermark` is a template ({name},
 * {email}, {date}) drawn over the pages, '' for none.
 */
export interface SecureView {
  watermark: string;
}

/** A document shared with a user or a group, in a role weaker than ownership. */
export interface Share {
  fileId: string;
  principal: Principal;
  role: 'viewer' | 'commenter' | 'editor';
  secureView: SecureView | null;
  createdAt: number;
  createdBy: string;
}

/** Anyone holding the link's URL may use the document in `role`, until it expires or is disabled. */
export interface ShareLink {
  /** Unguessable: the link's URL carries it. */
  id: string;
  fileId: string;
  role: 'viewer' | 'commenter' | 'editor';
  secureView: SecureView | null;
  /** argon2id hash of the link's password, or null for none. */
  passwordHash: string | null;
  expiresAt: number | null;
  disabledAt: number | null;
  createdAt: number;
  createdBy: string;
}

export interface Group {
  id: string;
  name: string;
  /** 'local': managed in Quire; 'provider': named by the identity provider's groups claim at sign-in. */
  source: 'local' | 'provider';
  createdAt: number;
}

/** A link's guest: the same name on the same link is the same guest (one cursor, one author). */
export interface Guest {
  id: string;
  linkId: string;
  name: string;
}

/** A sign-in to Quire's pages, kept so signing out ends it (and the tokens minted in it) everywhere at once. */
export interface SignIn {
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
}

/**
 * Who may reach which document beyond its owner: shares with users and groups, links and their guests, groups,
 * and sign-ins. Persistence only: the rules (who sees what, in which role) live in access/.
 */
export interface AccessStore {
  /** Adds the share, or changes the role or secure view of the one the principal already has. */
  putShare(share: Share, event?: Describe<{ before: Share | null; after: Share }>): Promise<Share>;
  /** Removes it; false when there was none. */
  removeShare(fileId: string, principal: Principal, at: number, event?: Describe<Share>): Promise<boolean>;
  sharesOf(fileId: string): Promise<Share[]>;
  /** Every share to any of these principals (a user and their groups): what is shared with them. */
  sharesTo(principals: Principal[]): Promise<Share[]>;

  createLink(link: ShareLink, event?: Describe<ShareLink>): Promise<ShareLink>;
  /** Changes a link's role, secure view, password, expiry or disabled time; null when there is no such link. */
  updateLink(
    id: string,
    change: Partial<Pick<ShareLink, 'role' | 'secureView' | 'passwordHash' | 'expiresAt' | 'disabledAt'>>,
    at: number,
    event?: Describe<{ before: ShareLink; after: ShareLink }>,
  ): Promise<ShareLink | null>;
  getLink(id: string): Promise<ShareLink | null>;
  linksOf(fileId: string): Promise<ShareLink[]>;
  /**
   * The shares and links of every live document `ownerId` owns (null: of every live document), in one read each:
   * what a document list shows as shared, without a query per document.
   */
  sharingOf(ownerId: string | null): Promise<{ shares: Share[]; links: ShareLink[] }>;
  /** The link's guest by that name, made on first use (names compared without case). */
  guest(linkId: string, name: string, nameKey: string, at: number): Promise<Guest>;
  getGuest(id: string): Promise<Guest | null>;

  /** Throws GroupExistsError when the name (without case) is taken. */
  createGroup(group: { name: string; nameKey: string; source: Group['source']; createdAt: number }): Promise<Group>;
  getGroup(id: string): Promise<Group | null>;
  findGroup(nameKey: string): Promise<Group | null>;
  listGroups(): Promise<Group[]>;
  /** Removes the group, its members and every share to it. */
  deleteGroup(id: string, at: number, event?: Describe<Group>): Promise<boolean>;
  addMember(groupId: string, userId: string): Promise<void>;
  removeMember(groupId: string, userId: string): Promise<boolean>;
  members(groupId: string): Promise<string[]>;
  groupsOf(userId: string): Promise<Group[]>;

  startSignIn(signIn: Omit<SignIn, 'endedAt'>): Promise<void>;
  getSignIn(id: string): Promise<SignIn | null>;
  endSignIn(id: string, at: number): Promise<void>;
  /** Ends every sign-in of a user (disabling them, changing their password). */
  endSignInsOf(userId: string, at: number): Promise<number>;
}

export class GroupExistsError extends QuireError {
  override name = 'GroupExistsError';
  constructor(readonly groupName: string) {
    super(409, `a group named ${JSON.stringify(groupName)} already exists (names are compared without case)`);
  }
}

/** A service API key as Quire keeps it: everything but its secret, of which only a hash is stored. */
export interface ApiKey {
  /** Public: it is part of the key itself (`quire_<id>_<secret>`), so a key is looked up by it. */
  id: string;
  /** What the admin called it (which app uses it). */
  name: string;
  /** What the key may do (the vocabulary lives in access/api-keys.ts); storage keeps them as given. */
  scopes: string[];
  /** ms since epoch */
  createdAt: number;
  /** The user id of the admin (or the CLI operator) who made it. */
  createdBy: string;
  /** When it stops working on its own; null: never. */
  expiresAt: number | null;
  /** When an admin revoked it; null while it works. */
  revokedAt: number | null;
  /** When it was last used, to within a minute or so (not written on every request); null: never used. */
  lastUsedAt: number | null;
}

export interface ApiKeyRecord extends ApiKey {
  /** SHA-256 of the key's secret, hex. */
  secretHash: string;
}

/** Service API keys, in the catalog's database. */
export interface ApiKeyStore {
  /** Stores a new key (its id is new: a taken id is an error), with its event in the same transaction. */
  createKey(key: ApiKeyRecord, event?: Describe<ApiKey>): Promise<ApiKey>;
  getKey(id: string): Promise<ApiKeyRecord | null>;
  /** Every key, revoked ones too, newest first. */
  listKeys(): Promise<ApiKey[]>;
  /**
   * Revokes it at `at`, with its event; a key already revoked keeps its first revocation time and writes no event.
   * Null when there is no such key.
   */
  revokeKey(id: string, at: number, event?: Describe<ApiKey>): Promise<ApiKey | null>;
  /** Records a use at `at`; an earlier time never replaces a later one. */
  markUsed(id: string, at: number): Promise<void>;
}

/**
 * A receiver Quire tells of events: each event whose kind the webhook matches becomes one delivery, written in the
 * event's own transaction (the outbox), then sent, signed, by a worker until acknowledged.
 */
export interface Webhook {
  id: string;
  /** http(s) URL the deliveries are POSTed to. */
  url: string;
  /** The public event types it asked for (webhooks/vocabulary.ts); null: every type, including ones added later. */
  events: string[] | null;
  description: string;
  /** ms since epoch */
  createdAt: number;
  /** Who registered it (a user id, or the CLI operator's name). */
  createdBy: string;
}

/** A webhook as stored: with the secret Quire signs with and the event kinds (documents/events.ts) it matches. */
export interface WebhookRecord extends Webhook {
  secret: string;
  kinds: string[];
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event (or ping) on its way to one webhook: the delivery log's line, and the worker's unit of work. */
export interface WebhookDelivery {
  /** Unique (a UUID): the receiver deduplicates on it, and it stays the same across retries and redeliveries. */
  id: string;
  webhookId: string;
  /** The event it reports; null for a ping. */
  eventId: number | null;
  /** The event's kind as Quire writes it (documents/events.ts), or 'webhook.ping'. */
  kind: string;
  /** When the event happened (ms since epoch). */
  createdAt: number;
  /** When it was queued: at the event, or when someone asked for a redelivery. Retries stop a while after it. */
  queuedAt: number;
  state: DeliveryState;
  /** Attempts since it was queued (a redelivery starts again at 0). */
  attempts: number;
  /** When the worker may next send it (pending), or null (delivered, failed). */
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  /** The receiver's last HTTP status, or null when the last attempt got none (refused, timed out). */
  lastStatus: number | null;
  /** Why the last attempt did not deliver it, or why it was given up on. */
  lastError: string | null;
  /** When it was delivered or given up on. */
  finishedAt: number | null;
}

/** A delivery the worker claimed, with what it needs to send it: the webhook's URL and secret, and the event. */
export interface ClaimedDelivery extends WebhookDelivery {
  url: string;
  secret: string;
  /** Null for a ping, or when retention removed the event before it could be sent. */
  event: EventRecord | null;
}

/** How one attempt ended, as the worker records it. */
export type DeliveryOutcome =
  | { state: 'delivered'; status: number }
  | { state: 'pending'; status: number | null; error: string; nextAttemptAt: number }
  | { state: 'failed'; status: number | null; error: string };

/** The audit event a webhook's change writes with it, and when. */
export type WebhookAudit = { at: number; event: Describe<Webhook> };

/**
 * Webhooks and their outbox. The outbox is written by the event log itself (every event, in its transaction, gets a
 * delivery per webhook whose kinds hold its kind); the worker claims due deliveries, so several instances on one
 * database never send the same attempt at once, and records each outcome.
 */
export interface WebhookStore {
  /** Registers it; `event` describes the audit event written in the same transaction. */
  createWebhook(hook: WebhookRecord, event?: Describe<Webhook>): Promise<Webhook>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  /** Every webhook, oldest first. */
  listWebhooks(): Promise<WebhookRecord[]>;
  /**
   * Changes what is given; null when there is no such webhook. With `audit`, its event (describing the webhook as
   * changed) is written at `audit.at` in the change's transaction.
   */
  updateWebhook(
    id: string,
    change: Partial<Pick<WebhookRecord, 'url' | 'events' | 'kinds' | 'description'>>,
    audit?: WebhookAudit,
  ): Promise<Webhook | null>;
  /**
   * Removes it with its deliveries (pending ones are not sent); false when there was none. With `audit`, its event
   * (describing the webhook as it was) is written in the same transaction.
   */
  deleteWebhook(id: string, audit?: WebhookAudit): Promise<boolean>;

  /** Queues a delivery that reports no event (a ping), due at once. */
  enqueuePing(webhookId: string, at: number): Promise<WebhookDelivery>;
  /** A webhook's deliveries, newest first; with `before`, only those created before that one (paging back). */
  deliveries(webhookId: string, query: { limit: number; before?: string }): Promise<WebhookDelivery[]>;
  getDelivery(webhookId: string, id: string): Promise<WebhookDelivery | null>;
  /**
   * Takes up to `limit` pending deliveries due at `now`, counts an attempt on each and makes them due again only at
   * `leaseUntil`: if the sender dies mid-attempt the delivery is sent again after that (at least once). Deliveries
   * another instance is claiming at the same moment are skipped, not waited for.
   */
  claim(now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records how attempt number `attempt` ended; false (nothing changed) when the delivery has moved on since
   * (claimed again after its lease ran out, redelivered, or deleted).
   */
  settle(id: string, attempt: number, outcome: DeliveryOutcome, at: number): Promise<boolean>;
  /** Queues it again, due at once, attempts back to 0; null when there is no such delivery of that webhook. */
  redeliver(webhookId: string, id: string, at: number): Promise<WebhookDelivery | null>;
  /** Forgets delivered and failed deliveries that finished before `before` (retention); answers how many. */
  pruneDeliveries(before: number): Promise<number>;
}

export interface Storage {
  catalog: Catalog;
  locks: LockStore;
  blobs: BlobStore;
  /** What happened: every change's event (written with the change) and the events that come with none. */
  events: EventLog;
  /** People who sign in to Quire's pages; absent when an embedding app does its own sign-in. */
  users?: UserStore | undefined;
  /** Shares, links, groups and sign-ins; absent when an embedding app decides access itself. */
  access?: AccessStore | undefined;
  /** Service API keys; absent when an embedding app has no use for them. */
  apiKeys?: ApiKeyStore | undefined;
  /** Webhooks and their outbox; absent when an embedding app sends none. */
  webhooks?: WebhookStore | undefined;
  close(): Promise<void>;
}

export class FileNotFoundError extends QuireError {
  override name = 'FileNotFoundError';
  constructor(readonly fileId: string) {
    super(404, 'file not found');
  }
}

export class NameTakenError extends QuireError {
  override name = 'NameTakenError';
  constructor(readonly takenName: string) {
    super(409, `a file named ${JSON.stringify(takenName)} exists`);
  }
}

export class UserExistsError extends QuireError {
  override name = 'UserExistsError';
  constructor(readonly userName: string) {
    super(409, `a user named ${JSON.stringify(userName)} already exists (names are compared without case)`);
  }
}
