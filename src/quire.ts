import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { loadSigningSecret } from './auth/secret.ts';
import { ALL_PERMISSIONS, type MintedToken, type Permissions, TokenService } from './auth/tokens.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { Editor, type EditorSettings, type HostPageAction } from './discovery/editor.ts';
import { importFile } from './documents/documents.ts';
import { buildHttpApp } from './http/app.ts';
import { openPostgresStorage } from './storage/postgres/index.ts';
import { openSqliteStorage } from './storage/sqlite/index.ts';
import type { FileRecord, Storage } from './storage/types.ts';
import { Accounts } from './users/accounts.ts';
import { registerWeb, type SessionOptions } from './web/index.ts';
import {
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_MAX_UPLOAD_BYTES,
  type HostUrls,
  type WopiConfig,
  type WopiHost,
} from './wopi/context.ts';

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
  clock?: Clock;
  /** Token signing key; defaults to QUIRE_SECRET or `dataDir/secret.key`. */
  secret?: Uint8Array;
  lockTtlMs?: number;
  maxUploadBytes?: number;
  brandName?: string;
  /** The editor (WOPI client) to embed: its URL, flavour override, proof-key mode, UI language. */
  editor?: EditorSettings;
  /** Sign in whoever a single-sign-on proxy names in this header (e.g. X-Remote-User). Only behind such a proxy. */
  trustedUserHeader?: string;
  logger?: FastifyServerOptions['logger'];
  /** Serve Prometheus metrics at /metrics (WOPI requests by operation and status, durations, process). */
  metrics?: boolean;
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

const CLOSE_GRACE_MS = 2000;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** A Quire instance: the WOPI host over some storage, with its HTTP app. Embed it, or `listen()`. */
export class Quire {
  readonly app: FastifyInstance;

  readonly host: WopiHost;
  readonly editor: Editor;
  /** The people who may sign in to Quire's pages; absent when the storage keeps no users. */
  readonly accounts: Accounts | undefined;

  private constructor(
    parts: { host: WopiHost; editor: Editor; sessions: SessionOptions | undefined; accounts: Accounts | undefined },
    private readonly urls: PublicUrls,
    private readonly explicitPublicUrl: boolean,
    private readonly dataDir: string,
    httpOptions: { logger?: FastifyServerOptions['logger']; metrics?: boolean },
  ) {
    this.host = parts.host;
    this.editor = parts.editor;
    this.accounts = parts.accounts;
    this.app = buildHttpApp(parts.host, parts.editor, httpOptions);
    // Without sign-in (an embedding app signs people in) only the WOPI endpoints are served.
    if (parts.sessions) registerWeb(this.app, { host: parts.host, editor: parts.editor, sessions: parts.sessions });
  }

  static async create(options: QuireOptions): Promise<Quire> {
    // everything that can fail comes before storage is opened, so a failed start leaves no pool or handle open
    await mkdir(options.dataDir, { recursive: true });
    const secret = options.secret ?? (await loadSigningSecret(options.dataDir));
    const storage =
      options.storage ??
      (options.databaseUrl
        ? await openPostgresStorage({ connectionString: options.databaseUrl, blobDir: join(options.dataDir, 'blobs') })
        : await openSqliteStorage(options.dataDir));
    const clock = options.clock ?? systemClock;
    const config: WopiConfig = {
      lockTtlMs: options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
      maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      brandName: options.brandName ?? 'Quire',
    };
    const urls = new PublicUrls(trimSlash(options.publicUrl ?? 'http://127.0.0.1:8080'));
    const editor = new Editor(options.editor ?? {}, clock);
    const host: WopiHost = {
      storage,
      clock,
      tokens: new TokenService(secret, clock),
      config,
      urls,
      flavour: () => editor.flavour(),
    };
    const accounts = storage.users && new Accounts(storage.users, clock);
    const sessions: SessionOptions | undefined = accounts && {
      users: accounts,
      secret,
      now: () => clock.now(),
      secureCookies: urls.publicUrl.startsWith('https:'),
      ...(options.trustedUserHeader && { trustedUserHeader: options.trustedUserHeader }),
    };
    return new Quire({ host, editor, sessions, accounts }, urls, options.publicUrl !== undefined, options.dataDir, {
      logger: options.logger,
      metrics: options.metrics === true,
    });
  }

  get publicUrl(): string {
    return this.urls.publicUrl;
  }

  /** Starts serving; returns the public URL. Records it in the data dir so `quire add` can print WOPISrc. */
  async listen(port: number, hostname = '127.0.0.1'): Promise<string> {
    await this.app.listen({ port, host: hostname });
    this.editor.start();
    const address = this.app.server.address();
    if (!this.explicitPublicUrl && address && typeof address === 'object') {
      const shown = hostname.includes(':') ? `[${hostname}]` : hostname;
      this.urls.publicUrl = `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${address.port}`;
    }
    await writeFile(join(this.dataDir, 'server.json'), `${JSON.stringify({ publicUrl: this.publicUrl })}\n`).catch(
      () => {},
    );
    return this.publicUrl;
  }

  async addFile(input: { source: Readable; name: string; ownerId: string }): Promise<FileRecord> {
    return importFile(this.host.storage, this.host.clock, input);
  }

  async mintToken(input: {
    fileId: string;
    userId: string;
    userName?: string;
    permissions?: Permissions;
    ttlMs?: number;
  }): Promise<MintedToken> {
    return this.host.tokens.mint({
      fileId: input.fileId,
      userId: input.userId,
      userName: input.userName ?? input.userId,
      permissions: input.permissions ?? ALL_PERMISSIONS,
      ...(input.ttlMs !== undefined && { ttlMs: input.ttlMs }),
    });
  }

  wopiSrc(fileId: string): string {
    return this.urls.wopiSrc(fileId);
  }

  /** Stops serving: requests in flight get a short grace period, then every connection is closed. */
  async close(): Promise<void> {
    this.editor.stop();
    const grace = setTimeout(() => this.app.server.closeAllConnections(), CLOSE_GRACE_MS);
    try {
      await this.app.close();
    } finally {
      clearTimeout(grace);
    }
    await this.host.storage.close();
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
