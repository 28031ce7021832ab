import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { ApiKeys } from './access/api-keys.ts';
import { AccessPolicy, type AccessRules } from './access/policy.ts';
import { grantCheck } from './access/revocation.ts';
import { Sharing } from './access/sharing.ts';
import { loadSigningSecret } from './auth/secret.ts';
import { ALL_PERMISSIONS, type MintedToken, type Permissions, TokenService } from './auth/tokens.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { makePrivateDir, tightenTopLevel, writePrivateFile } from './core/private-files.ts';
import { Editor, type EditorSettings, type HostPageAction } from './discovery/editor.ts';
import { importFile } from './documents/documents.ts';
import { EVENT } from './documents/events.ts';
import { buildHttpApp } from './http/app.ts';
import { type DrainResult, RequestTracker } from './http/drain.ts';
import { NotReady, type ReadinessCheck } from './http/readiness.ts';
import { type BlobCollection, collectBlobs } from './storage/blob-gc.ts';
import { FreeSpace } from './storage/free-space.ts';
import { FsBlobStore } from './storage/fs-blobs.ts';
import { openPostgresStorage } from './storage/postgres/index.ts';
import type { S3BlobOptions } from './storage/s3/index.ts';
import { openSqliteStorage } from './storage/sqlite/index.ts';
import type { Actor, BlobStore, FileRecord, Storage } from './storage/types.ts';
import { Accounts } from './users/accounts.ts';
import {
  FirstRunSetup,
  type Identify,
  type OidcOptions,
  registerWeb,
  resolveOidcOptions,
  type SessionOptions,
  type SignInLimits,
} from './web/index.ts';
import { Webhooks } from './webhooks/registry.ts';
import { type WebhookSettings, WebhookWorker } from './webhooks/worker.ts';
import {
  DEFAULT_FILE_URL_TTL_SECONDS,
  DEFAULT_LOCK_IDLE_RELEASE_MS,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_MAX_UPLOAD_BYTES,
  type HostUrls,
  type WopiConfig,
  type WopiHost,
} from './wopi/context.ts';
import { releaseIdleLocks } from './wopi/idle-locks.ts';

/** `quire migrate`: an embedded data dir moved to PostgreSQL and/or an S3 bucket (the CLI reaches storage through here). */
export {
  describeBucket,
  describeDatabase,
  formatBytes,
  type MigrateOptions,
  MigrationError,
  type MigrationSummary,
  migrateEmbeddedStore,
} from './storage/migrate/index.ts';

export interface QuireOptions {
  /** Where the embedded store and the signing key live. */
  dataDir: string;
  /** The address editors and browsers reach Quire at; defaults to where it listens. */
  publicUrl?: string;
  /** Bring your own storage (catalog, locks, blobs); defaults to SQLite + files in `dataDir`. */
  storage?: Storage;
  /**
   * A PostgreSQL connection string (postgres://…): the catalog, locks and users live there instead of SQLite, so
   * several instances can serve the same documents; the bytes stay in `dataDir/blobs`, which those instances must
   * then share. Ignored when `storage` is given.
   */
  databaseUrl?: string;
  /**
   * Keep the bytes in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO …) instead of `dataDir/blobs`; the catalog
   * stays in SQLite or PostgreSQL (`databaseUrl`). The bucket must exist. Ignored when `storage` is given.
   */
  s3?: S3BlobOptions;
  /**
   * Give the editors that use it (ONLYOFFICE, Microsoft 365 for the web; not Collabora) CheckFileInfo's FileUrl: a
   * short-lived presigned URL of the version's bytes in the bucket, so they fetch them from S3 rather than through
   * Quire's GetFile (which keeps working). Needs a blob store that can presign (`s3`, or a `storage` whose blobs
   * have `urlFor`); Quire refuses to start otherwise. The editors must reach the bucket (see
   * `s3.publicEndpoint`). Not for secure view, whose bytes go through GetFile only. Default off.
   */
  fileUrl?: boolean;
  /** How long a FileUrl lives, in seconds; default 300. */
  fileUrlTtlSeconds?: number;
  clock?: Clock;
  /** Token signing key; defaults to QUIRE_SECRET or `dataDir/secret.key`. */
  secret?: Uint8Array;
  lockTtlMs?: number;
  /**
   * Release a lock whose editor has neither refreshed it nor saved for this long (ms), before its expiry; 0: never.
   * Default 20 minutes.
   */
  lockIdleReleaseMs?: number;
  maxUploadBytes?: number;
  brandName?: string;
  /** The editor (WOPI client) to embed: its URL, flavour override, proof-key mode, UI language. */
  editor?: EditorSettings;
  /** Sign in whoever a single-sign-on proxy names in this header (e.g. X-Remote-User). Only behind such a proxy. */
  trustedUserHeader?: string;
  /**
   * For an app that embeds Quire and signs its people in itself: who sent a request, from the app's own cookie or
   * header. Asked before Quire's own sign-in; see `Identify`. Quire keeps an account for each person the app names,
   * so the storage needs a user store (`storage.users`).
   */
  identify?: Identify;
  /**
   * The embedding app's sign-in page (a path on the same site, or a URL): where Quire sends a browser nobody is
   * signed in with, `next` set to the path to come back to. Default: Quire's own `/login`.
   */
  signInUrl?: string;
  /**
   * Who may do what with a document, for the WOPI endpoint and the web app alike: bring your own rules (see
   * `AccessRules`). Default: Quire's own (owners, admins, shares to people and groups, links).
   */
  access?: AccessRules;
  /**
   * How many failed sign-ins the sign-in form allows per user name and per client address, and over how long; the
   * defaults are 10 per name and 50 per address per 15 minutes (a limit of 0 turns it off). Counted per process.
   */
  signInLimits?: SignInLimits;
  /**
   * Single sign-on through an OpenID Connect provider (authorization code flow with PKCE): the sign-in page offers
   * it beside the password form. Register Quire there with the redirect URI `${publicUrl}/login/oidc/callback`.
   */
  oidc?: OidcOptions;
  logger?: FastifyServerOptions['logger'];
  /**
   * Origins (https://app.example.com) whose pages may frame the host-page URLs minted with a service API key
   * (`/embed/…`); by default only Quire's own pages may, as for every host page.
   */
  frameAncestors?: string[];
  /** Serve Prometheus metrics at /metrics (WOPI requests by operation and status, durations, process). */
  metrics?: boolean;
  /**
   * Free space (bytes) the disk holding the blobs keeps in reserve: below it, saves and uploads are refused with 507
   * before a byte is read, and /readyz answers 503; reading goes on. Default: the smaller of 1 GiB and 5 % of the
   * disk; 0 turns the check off. Applies to the file blob store Quire opens (or is given).
   */
  minFreeBytes?: number;
  /** How long the event log keeps an event (ms); 0 keeps every event. Default 365 days. */
  eventRetentionMs?: number;
  /** How long a rescued save is kept (ms); 0 keeps them all. Default 90 days. */
  rescuedRetentionMs?: number;
  /**
   * Autosaves older than this (ms) are thinned: of each editing session's autosaves only the last is kept (manual
   * saves, exit saves, uploads, restores and the head always are); 0 keeps them all. Default 30 days.
   */
  autosaveRetentionMs?: number;
  /**
   * Webhook deliveries: how long one attempt may take (default 10 s) and how long a delivery is retried before it is
   * marked failed (default 24 hours). Delivered and failed deliveries are kept as long as events are.
   */
  webhooks?: WebhookSettings;
}

/** How often temp files abandoned by crashed saves (of this or another process) are looked for while serving. */
const TEMP_GC_INTERVAL_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_EVENT_RETENTION_MS = 365 * DAY_MS;
export const DEFAULT_RESCUED_RETENTION_MS = 90 * DAY_MS;
export const DEFAULT_AUTOSAVE_RETENTION_MS = 30 * DAY_MS;

/** What applyRetention forgot: events, rescued saves, and thinned autosave versions (in how many files). */
export interface RetentionResult {
  events: number;
  rescued: number;
  autosaves: { versions: number; files: number };
}

/** What collectGarbage removed: temp files abandoned by saves, and blobs nothing references (how many, bytes). */
export interface GarbageResult {
  tempFiles: number;
  blobs: number;
  bytes: number;
}

class PublicUrls implements HostUrls {
  private known = { url: '', origin: '' };
  constructor(public publicUrl: string) {}
  get origin(): string {
    // the public URL is settled once Quire listens; work its origin out once per value, not per request
    if (this.known.url !== this.publicUrl) this.known = { url: this.publicUrl, origin: new URL(this.publicUrl).origin };
    return this.known.origin;
  }
  wopiSrc(fileId: string): string {
    return `${this.publicUrl}/wopi/files/${encodeURIComponent(fileId)}`;
  }
  historyPage(fileId: string): string {
    return `${this.publicUrl}/files/${encodeURIComponent(fileId)}`;
  }
  hostPage(fileId: string, action: HostPageAction): string {
    return `${this.publicUrl}/files/${encodeURIComponent(fileId)}/open?action=${action}`;
  }
}

/** How long `close()` lets requests in flight finish unless told otherwise (`quire serve` waits 30 s by default). */
const CLOSE_GRACE_MS = 2000;

/**
 * The storage `options` ask for: SQLite, or PostgreSQL with `databaseUrl`; the bytes in `dataDir/blobs`, or in a
 * bucket with `s3` (its client closed with the storage).
 */
async function openStorage(options: QuireOptions): Promise<Storage> {
  // loaded only when asked for: the AWS SDK takes a while to load, and warns on Node 20
  const s3 = options.s3 && (await (await import('./storage/s3/index.ts')).openS3BlobStore(options.s3));
  try {
    const blobs = s3 ? { blobs: s3 } : {};
    const storage = options.databaseUrl
      ? await openPostgresStorage({
          connectionString: options.databaseUrl,
          blobDir: join(options.dataDir, 'blobs'),
          ...blobs,
        })
      : await openSqliteStorage(options.dataDir, blobs);
    if (!s3) return storage;
    return {
      ...storage,
      async close() {
        try {
          await storage.close();
        } finally {
          s3.close();
        }
      },
    };
  } catch (err) {
    s3?.close();
    throw err;
  }
}

/** What a blob store may offer beyond BlobStore (the file and S3 stores do): a readiness probe, temp collection. */
interface Tidyable {
  probe(): Promise<void>;
  collectTemp(): Promise<string[]>;
}

const tidyable = (blobs: BlobStore): Tidyable | undefined => {
  const maybe = blobs as BlobStore & Partial<Tidyable>;
  const { probe, collectTemp } = maybe;
  return probe && collectTemp
    ? { probe: () => probe.call(blobs), collectTemp: () => collectTemp.call(blobs) }
    : undefined;
};

/** What /readyz checks of a file blob store: that a save could write where saves write, and that there is room. */
function blobReadiness(blobs: FsBlobStore, space: FreeSpace): Record<string, ReadinessCheck> {
  return {
    blobs: async () => {
      await blobs.probe();
      return undefined;
    },
    space: async () => {
      const status = await space.status();
      const details = { freeBytes: status.freeBytes, minFreeBytes: status.minFreeBytes };
      const shortfall = FreeSpace.shortfall(status);
      if (shortfall) throw new NotReady(`${shortfall}: saves and uploads are refused`, details);
      return details;
    },
  };
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The path Quire's routes live under: the public URL's, without its trailing slash ('' at the root). */
function basePathOf(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new Error(`the public URL ${JSON.stringify(publicUrl)} is not a URL`);
  }
  if (url.search || url.hash) throw new Error('the public URL may not have a query or a fragment');
  return url.pathname.replace(/\/+$/, '');
}

/** A Quire instance: the WOPI host over some storage, with its HTTP app. Embed it, or `listen()`. */
export class Quire {
  readonly app: FastifyInstance;
  private tempGc: NodeJS.Timeout | undefined;
  private maintenance: Promise<{ retention: RetentionResult; garbage: GarbageResult }> | undefined;
  private idleLocks: NodeJS.Timeout | undefined;

  readonly host: WopiHost;
  readonly editor: Editor;
  /** The people who may sign in to Quire's pages; absent when the storage keeps no users. */
  readonly accounts: Accounts | undefined;
  /** Shares, links, groups and disabling people, with their audit events (the web API and the CLI use it). */
  readonly sharing: Sharing;
  /** Service API keys (the web API and the CLI make and revoke them); absent when the storage keeps none. */
  readonly apiKeys: ApiKeys | undefined;
  /** The first-run setup link's secret, when Quire started with no users (per process, in memory only). */
  private readonly setup: FirstRunSetup | undefined;
  /** Webhooks and their delivery log (the API and the CLI use it); absent when the storage keeps no webhooks. */
  readonly webhooks: Webhooks | undefined;
  /** Sends the outbox's deliveries while serving. */
  private readonly webhookWorker: WebhookWorker | undefined;
  /** The requests being answered, so that close() can let them finish. */
  private readonly requests: RequestTracker;
  private closing: Promise<DrainResult> | undefined;

  private constructor(
    parts: {
      host: WopiHost;
      editor: Editor;
      sessions: SessionOptions | undefined;
      accounts: Accounts | undefined;
      setup?: FirstRunSetup | undefined;
      signInLimits?: SignInLimits | undefined;
      oidc?: OidcOptions | undefined;
      webhooks?: WebhookSettings | undefined;
      frameAncestors?: string[] | undefined;
    },
    private readonly urls: PublicUrls,
    private readonly explicitPublicUrl: boolean,
    private readonly dataDir: string,
    httpOptions: {
      logger?: FastifyServerOptions['logger'];
      metrics?: boolean;
      readiness?: Record<string, ReadinessCheck>;
      basePath?: string;
    },
    /** How long events, rescued saves and every autosave are kept (ms; 0: forever). */
    private readonly retention: { events: number; rescued: number; autosaves: number },
    /** The file or S3 blob store, when the storage has one: its temp files are collected while serving. */
    private readonly fsBlobs?: Pick<Tidyable, 'collectTemp'>,
  ) {
    this.host = parts.host;
    this.editor = parts.editor;
    this.accounts = parts.accounts;
    this.sharing = new Sharing(parts.host.storage, parts.host.clock);
    this.apiKeys = parts.host.storage.apiKeys && new ApiKeys(parts.host.storage.apiKeys, parts.host.clock);
    this.setup = parts.setup;
    this.app = buildHttpApp(parts.host, parts.editor, { ...httpOptions, draining: () => this.draining });
    this.requests = new RequestTracker(this.app);
    const hooks = parts.host.storage.webhooks;
    this.webhooks = hooks && new Webhooks(hooks, parts.host.clock);
    this.webhookWorker = hooks && new WebhookWorker(hooks, parts.host.clock, this.app.log, parts.webhooks);
    // Without sign-in (an embedding app signs people in) only the WOPI endpoints are served.
    if (parts.sessions) {
      registerWeb(this.app, {
        basePath: httpOptions.basePath ?? '',
        host: parts.host,
        editor: parts.editor,
        sessions: parts.sessions,
        setup: parts.setup,
        signInLimits: parts.signInLimits,
        frameAncestors: parts.frameAncestors,
        ...(parts.oidc && {
          oidc: { options: parts.oidc, redirectUri: () => `${this.urls.publicUrl}/login/oidc/callback` },
        }),
      });
    }
  }

  static async create(options: QuireOptions): Promise<Quire> {
    // everything that can fail comes before storage is opened, so a failed start leaves no pool or handle open
    // private to the user running Quire: created so, and an existing one made so (said in the log, below)
    await makePrivateDir(options.dataDir);
    const tightened = await tightenTopLevel(options.dataDir);
    // a mistake in the single sign-on settings is said before anything is opened
    if (options.oidc) resolveOidcOptions(options.oidc);
    if (options.identify && options.storage && !options.storage.users) {
      throw new Error('identify needs a storage with users (storage.users): Quire keeps an account per person named');
    }
    if (options.fileUrl && !(options.storage ? options.storage.blobs.urlFor : options.s3)) {
      throw new Error(
        'fileUrl needs blobs in an S3 bucket (s3, or --s3-bucket): the file blob store cannot hand out URLs of its bytes',
      );
    }
    const ttl = options.fileUrlTtlSeconds;
    // SigV4 presigned URLs live at most 7 days
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 7 * 24 * 3600)) {
      throw new Error(`fileUrlTtlSeconds must be a whole number of seconds from 1 to 604800, not ${ttl}`);
    }
    const secret = options.secret ?? (await loadSigningSecret(options.dataDir));
    const storage = options.storage ?? (await openStorage(options));
    const clock = options.clock ?? systemClock;
    const config: WopiConfig = {
      lockTtlMs: options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
      lockIdleReleaseMs: options.lockIdleReleaseMs ?? DEFAULT_LOCK_IDLE_RELEASE_MS,
      maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      brandName: options.brandName ?? 'Quire',
      ...(options.fileUrl && { fileUrlTtlSeconds: options.fileUrlTtlSeconds ?? DEFAULT_FILE_URL_TTL_SECONDS }),
    };
    const urls = new PublicUrls(trimSlash(options.publicUrl ?? 'http://127.0.0.1:8080'));
    // every route is served under the public URL's path, so Quire can live at a prefix of another app's site
    const basePath = basePathOf(urls.publicUrl);
    const editor = new Editor(options.editor ?? {}, clock);
    const host: WopiHost = {
      storage,
      clock,
      tokens: new TokenService(secret, clock),
      access: options.access ?? new AccessPolicy(storage, clock),
      config,
      urls,
      flavour: () => editor.flavour(),
    };
    host.tokens.checkWith(grantCheck(storage, host.access, clock));
    const accounts = storage.users && new Accounts(storage.users, clock);
    const sessions: SessionOptions | undefined = accounts && {
      users: accounts,
      secret,
      now: () => clock.now(),
      secureCookies: urls.publicUrl.startsWith('https:'),
      signIns: storage.access,
      ...(options.trustedUserHeader && { trustedUserHeader: options.trustedUserHeader }),
      ...(options.identify && { identify: options.identify }),
      ...(options.signInUrl && { signInUrl: options.signInUrl }),
    };
    // first run: nobody can sign in yet, so a one-time link (printed by `serve`) creates the first admin
    const setup = accounts && (await accounts.list()).length === 0 ? new FirstRunSetup(accounts) : undefined;
    const fsBlobs = storage.blobs instanceof FsBlobStore ? storage.blobs : undefined;
    const otherBlobs = fsBlobs ? undefined : tidyable(storage.blobs);
    const quire = new Quire(
      {
        host,
        editor,
        sessions,
        accounts,
        setup,
        signInLimits: options.signInLimits,
        oidc: options.oidc,
        webhooks: options.webhooks,
        frameAncestors: options.frameAncestors,
      },
      urls,
      options.publicUrl !== undefined,
      options.dataDir,
      {
        logger: options.logger,
        metrics: options.metrics === true,
        basePath,
        ...(fsBlobs && { readiness: blobReadiness(fsBlobs, fsBlobs.keepFree(options.minFreeBytes)) }),
        ...(otherBlobs && { readiness: { blobs: async () => void (await otherBlobs.probe()) } }),
      },
      {
        events: options.eventRetentionMs ?? DEFAULT_EVENT_RETENTION_MS,
        rescued: options.rescuedRetentionMs ?? DEFAULT_RESCUED_RETENTION_MS,
        autosaves: options.autosaveRetentionMs ?? DEFAULT_AUTOSAVE_RETENTION_MS,
      },
      fsBlobs ?? otherBlobs,
    );
    if (tightened.length > 0) {
      quire.app.log.warn(
        { dataDir: options.dataDir, tightened },
        tightened.some((t) => t.error)
          ? 'the data dir (password hashes, the signing key) is open to other users and could not all be made private'
          : 'the data dir (password hashes, the signing key) was open to other users: took their permissions away',
      );
    }
    return quire;
  }

  get publicUrl(): string {
    return this.urls.publicUrl;
  }

  /**
   * The one-time link that creates the first admin (`/setup?token=…` at the public URL), while Quire started with no
   * users and nobody has used it; valid until this process stops. Undefined otherwise.
   */
  get setupUrl(): string | undefined {
    if (!this.setup || this.setup.finished) return undefined;
    return `${this.publicUrl}/setup?token=${this.setup.token}`;
  }

  /** Starts serving; returns the public URL. Records it in the data dir so `quire add` can print WOPISrc. */
  async listen(port: number, hostname = '127.0.0.1'): Promise<string> {
    await this.app.listen({ port, host: hostname });
    this.start();
    const address = this.app.server.address();
    if (!this.explicitPublicUrl && address && typeof address === 'object') {
      const shown = hostname.includes(':') ? `[${hostname}]` : hostname;
      this.urls.publicUrl = `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${address.port}`;
    }
    await writePrivateFile(
      join(this.dataDir, 'server.json'),
      `${JSON.stringify({ publicUrl: this.publicUrl })}\n`,
    ).catch(() => {});
    return this.publicUrl;
  }

  /**
   * Starts what runs in the background while Quire serves: retention and garbage collection every 10 minutes, the
   * release of silent editors' locks, the editor's discovery. Once; `listen` calls it, and so does `createQuire`
   * for a Quire mounted in another server.
   */
  start(): void {
    if (this.tempGc) return;
    // abandoned temp files were removed when the store opened; from now on, every 10 minutes (after retention)
    this.tempGc = setInterval(() => void this.maintain(), TEMP_GC_INTERVAL_MS).unref();
    void this.applyRetention();
    const idleMs = this.host.config.lockIdleReleaseMs;
    if (idleMs > 0)
      this.idleLocks ??= setInterval(() => void this.releaseIdleLocks(), Math.min(60_000, idleMs / 4)).unref();
    this.editor.start();
    void this.startWebhooks();
  }

  /** Brings subscriptions up to this Quire's event types, then sends the outbox's deliveries until close. */
  private async startWebhooks(): Promise<void> {
    const { webhooks, webhookWorker } = this;
    if (!webhooks || !webhookWorker) return;
    await this.attempt('webhook subscription update', () => webhooks.reconcile(), 0);
    webhookWorker.start();
  }

  async addFile(input: { source: Readable; name: string; ownerId: string }): Promise<FileRecord> {
    // the owner by name in the audit trail, when Quire knows them
    const owner = await this.host.storage.users?.findById(input.ownerId);
    return importFile(this.host.storage, this.host.clock, {
      ...input,
      ...(owner && { actor: { userId: owner.id, userName: owner.displayName } }),
    });
  }

  async mintToken(input: {
    fileId: string;
    userId: string;
    userName?: string;
    permissions?: Permissions;
    ttlMs?: number;
    /** Who asks for it, for the event log ('token.minted'); by default the token's own user. */
    actor?: Actor;
  }): Promise<MintedToken> {
    const permissions = input.permissions ?? ALL_PERMISSIONS;
    const minted = await this.host.tokens.mint({
      fileId: input.fileId,
      userId: input.userId,
      userName: input.userName ?? input.userId,
      permissions,
      ...(input.ttlMs !== undefined && { ttlMs: input.ttlMs }),
    });
    await this.host.storage.events.append(
      {
        type: EVENT.tokenMinted,
        fileId: input.fileId,
        ...(input.actor ?? { userId: input.userId, userName: input.userName ?? input.userId }),
        details: { for: input.userId, write: permissions.write, expiresAt: minted.access_token_ttl },
      },
      this.host.clock.now(),
    );
    return minted;
  }

  wopiSrc(fileId: string): string {
    return this.urls.wopiSrc(fileId);
  }

  /**
   * Forgets events and rescued saves older than their retention, and thins autosaves older than theirs (each
   * session's last one is kept; one `versions.thinned` event per file). Runs at start and every ten minutes while
   * serving. The bytes this leaves unreferenced are removed by collectGarbage.
   */
  async applyRetention(): Promise<RetentionResult> {
    const now = this.host.clock.now();
    const { events: eventMs, rescued: rescuedMs, autosaves: autosaveMs } = this.retention;
    const { catalog, events: log } = this.host.storage;
    const events = eventMs > 0 ? await this.attempt('event retention', () => log.prune(now - eventMs), 0) : 0;
    const rescued =
      rescuedMs > 0 ? await this.attempt('rescued save retention', () => catalog.pruneRescued(now - rescuedMs), 0) : 0;
    const thinned =
      autosaveMs > 0
        ? await this.attempt(
            'autosave thinning',
            () =>
              catalog.thinAutosaves(now - autosaveMs, now, ({ fileId, versions }) => ({
                type: EVENT.versionsThinned,
                fileId,
                details: { versions, count: versions.length },
              })),
            [],
          )
        : [];
    const hooks = this.host.storage.webhooks;
    const deliveries =
      eventMs > 0 && hooks
        ? await this.attempt('webhook delivery retention', () => hooks.pruneDeliveries(now - eventMs), 0)
        : 0;
    if (deliveries) this.app.log.info({ deliveries }, 'retention: forgot old webhook deliveries');
    const autosaves = { versions: thinned.reduce((n, t) => n + t.versions.length, 0), files: thinned.length };
    if (events || rescued || autosaves.versions) {
      this.app.log.info(
        { events, rescued, autosaves },
        'retention: forgot old events and rescued saves, thinned autosaves',
      );
    }
    return { events, rescued, autosaves };
  }

  /**
   * Removes temp files that saves left behind when their process died (untouched for an hour; never one a save in
   * this process is still writing), and blobs that no version or rescued save references and nobody has written or
   * touched for an hour (never one a save or restore in progress is about to reference: see storage/blob-gc.ts).
   * Runs every 10 minutes while serving, after retention.
   */
  async collectGarbage(): Promise<GarbageResult> {
    const fsBlobs = this.fsBlobs;
    const tempFiles = fsBlobs
      ? (await this.attempt('temp file collection', () => fsBlobs.collectTemp(), [])).length
      : 0;
    if (tempFiles) this.app.log.info({ removed: tempFiles }, 'removed temp files abandoned by saves');
    const freed: BlobCollection = await this.attempt('blob collection', () => collectBlobs(this.host.storage), {
      blobs: 0,
      bytes: 0,
    });
    if (freed.blobs) this.app.log.info(freed, 'removed blobs nothing references');
    return { tempFiles, ...freed };
  }

  /** Retention, then garbage collection: what runs every 10 minutes while serving, and `quire gc`. */
  async maintain(): Promise<{ retention: RetentionResult; garbage: GarbageResult }> {
    // one pass at a time: a slow one is not overtaken by the next tick
    this.maintenance ??= (async () => {
      try {
        const retention = await this.applyRetention();
        return { retention, garbage: await this.collectGarbage() };
      } finally {
        this.maintenance = undefined;
      }
    })();
    return this.maintenance;
  }

  /** Runs one maintenance step; a failure is logged and answers `fallback`, so the other steps still run. */
  private async attempt<T>(what: string, step: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await step();
    } catch (err) {
      this.app.log.warn({ err }, `${what} failed`);
      return fallback;
    }
  }

  /** Releases locks whose editors went silent (see `lockIdleReleaseMs`); runs every minute while serving. */
  async releaseIdleLocks(): Promise<string[]> {
    try {
      const released = await releaseIdleLocks(this.host);
      if (released.length) this.app.log.info({ files: released }, 'released locks whose editors went silent');
      return released;
    } catch (err) {
      this.app.log.warn({ err }, 'releasing idle locks failed');
      return [];
    }
  }

  /** True once close() began: /readyz answers 503 ("draining"), so a load balancer takes this instance out. */
  get draining(): boolean {
    return this.requests.isDraining;
  }

  /**
   * Stops serving, draining first: /readyz answers 503 at once, no new connection is accepted, idle keep-alive
   * connections are closed, and requests in flight (a PutFile's body above all) may finish for `drainTimeoutMs`
   * (default 2 s), each answer ending its connection; what is left then is cut. Then the background work stops
   * (webhook deliveries, retention and GC, the idle-lock release, discovery) and the storage is closed. Answers
   * how many requests were in flight and how many were cut. Calling it again answers the same drain.
   */
  close(options: { drainTimeoutMs?: number } = {}): Promise<DrainResult> {
    this.closing ??= this.shutDown(options.drainTimeoutMs ?? CLOSE_GRACE_MS);
    return this.closing;
  }

  private async shutDown(drainTimeoutMs: number): Promise<DrainResult> {
    clearInterval(this.tempGc);
    clearInterval(this.idleLocks);
    this.editor.stop();
    const drained = this.requests.drain(drainTimeoutMs);
    // (Fastify's close stops the listener, closes idle connections and ends the live event streams; it resolves
    // once every connection is gone, which the drain sees to)
    const stopped = this.app.close();
    // attempts in flight are cut short and left due, for the next start or another instance; nothing more is sent
    const worker = this.webhookWorker?.stop();
    const result = await drained;
    await stopped;
    await worker;
    // a maintenance pass under way finishes before its storage goes (it never throws)
    await this.maintenance;
    await this.host.storage.close();
    return result;
  }
}

/** The public URL a running server recorded in `dataDir`, if any. */
export async function recordedPublicUrl(dataDir: string): Promise<string | undefined> {
  try {
    const { publicUrl } = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as { publicUrl?: unknown };
    return typeof publicUrl === 'string' ? publicUrl : undefined;
  } catch {
    return undefined;
  }
}
