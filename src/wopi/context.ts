import type { Readable } from 'node:stream';
import type { AccessRules } from '../access/policy.ts';
import type { Grant, TokenService } from '../auth/tokens.ts';
import type { Clock } from '../core/clock.ts';
import type { HostPageAction } from '../discovery/editor.ts';
import type { Flavour } from '../discovery/flavour.ts';
import type { Actor, Storage } from '../storage/types.ts';

/** One WOPI call, free of any web framework: what an operation may read. */
export interface WopiRequest {
  fileId: string;
  /** The verified access token's grant; already checked to be for `fileId`. */
  grant: Grant;
  /** Case-insensitive header lookup; undefined when absent. */
  header(name: string): string | undefined;
  /** The request body, unread (empty when the request has none). */
  body: Readable;
  /** Content-Length when the client sent one. */
  contentLength?: number;
  /** Who is calling and from where (the grant's user, the client's address and User-Agent, WOPI's ids): for events. */
  actor: Actor;
}

/** What an operation answers; the HTTP layer writes it out. */
export interface WopiResult {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** JSON already serialized (an answer reused as it was). */
  jsonText?: string;
  stream?: Readable;
}

export interface WopiConfig {
  /** How long a lock lives without RefreshLock (WOPI says 30 minutes). */
  lockTtlMs: number;
  /**
   * A lock whose editor neither refreshed it nor saved under it for this long is released by Quire (an editor that
   * died without unlocking), shorter than the expiry; 0 leaves every lock to its expiry.
   */
  lockIdleReleaseMs: number;
  /** Largest body PutFile / PutRelativeFile accept; larger gets 413. */
  maxUploadBytes: number;
  /** Shown to editors as the host's name. */
  brandName: string;
  /**
   * Give editors that use it CheckFileInfo's FileUrl: a URL of the blob, presigned by the blob store, that lives
   * this many seconds (see file-info/file-url.ts). Absent or 0: no FileUrl, editors call GetFile.
   */
  fileUrlTtlSeconds?: number;
}

/** The URLs Quire hands out: where the WOPI endpoint of a file is, and where its host page is. */
export interface HostUrls {
  publicUrl: string;
  /** The public URL's origin (scheme://host[:port]): where Quire's pages, and so its host page, live. */
  readonly origin: string;
  wopiSrc(fileId: string): string;
  hostPage(fileId: string, action: HostPageAction): string;
  /** The page with the file's version history. */
  historyPage(fileId: string): string;
}

/** Everything an operation needs from the rest of Quire. */
export interface WopiHost {
  storage: Storage;
  clock: Clock;
  tokens: TokenService;
  /** Who may do what with a document: the WOPI endpoint and the web app ask the same policy. */
  access: AccessRules;
  config: WopiConfig;
  urls: HostUrls;
  /** The editor's flavour as currently known (configured, or read from its discovery XML). */
  flavour(): Flavour;
}

export type WopiOperation = (host: WopiHost, req: WopiRequest) => Promise<WopiResult>;

export const DEFAULT_LOCK_TTL_MS = 30 * 60 * 1000;
/** Collabora refreshes its lock every 15 minutes and ONLYOFFICE more often: 20 silent minutes mean nobody is there. */
export const DEFAULT_LOCK_IDLE_RELEASE_MS = 20 * 60 * 1000;
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
/**
 * How long a FileUrl lives: editors fetch it within seconds of CheckFileInfo (Collabora at once, ONLYOFFICE when the
 * first editor connects), and a presigned URL cannot be revoked, so it is kept short: five minutes bounds how long
 * bytes stay readable through it after a token is revoked or the URL lands in an editor's log.
 */
export const DEFAULT_FILE_URL_TTL_SECONDS = 5 * 60;
