import { type Discovery, DiscoveryError, parseDiscovery } from './discovery.ts';

export interface DiscoveryClientOptions {
  /** Where the editor lives ('https://docs.example.com'); discovery is read from EDITOR_URL/hosting/discovery. */
  editorUrl: string;
  /** How long a copy is used before it is fetched again; default 12 hours (Microsoft suggests 12–24). */
  refreshMs?: number;
  /** How long one fetch may take; default 10 seconds. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Told about failures nobody awaits: timer refreshes, and refreshes that fall back to a stale copy. */
  onError?: (err: unknown) => void;
}

export const DEFAULT_DISCOVERY_REFRESH_MS = 12 * 60 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Fetches an editor's discovery XML and keeps the last good copy. */
export class DiscoveryClient {
  readonly #url: string;
  readonly #refreshMs: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  #cached: { discovery: Discovery; fetchedAt: number } | undefined;
  #inFlight: Promise<Discovery> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: DiscoveryClientOptions) {
    this.#url = `${opts.editorUrl.replace(/\/+$/, '')}/hosting/discovery`;
    this.#refreshMs = opts.refreshMs ?? DEFAULT_DISCOVERY_REFRESH_MS;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
  }

  get discoveryUrl(): string {
    return this.#url;
  }

  /**
   * The cached discovery; the first call fetches it and concurrent callers share that fetch. A copy older than
   * `refreshMs` is fetched again, and kept (with the failure reported to onError) if the editor cannot answer.
   */
  async get(): Promise<Discovery> {
    const cached = this.#cached;
    if (!cached) return this.#fetchShared();
    if (this.#now() - cached.fetchedAt < this.#refreshMs) return cached.discovery;
    try {
      return await this.#fetchShared();
    } catch (err) {
      this.#onError(err);
      return cached.discovery;
    }
  }

  /**
   * Fetches again now, e.g. after a proof-key check failed (the editor may have rotated its keys). A failed
   * refresh rejects and leaves the previous copy in place. Joins a fetch already under way.
   */
  refresh(): Promise<Discovery> {
    return this.#fetchShared();
  }

  cached(): Discovery | undefined {
    return this.#cached?.discovery;
  }

  /** Fetches now if nothing is cached, then every `refreshMs`; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return;
    if (!this.#cached) this.refresh().catch(this.#onError);
    this.#timer = setInterval(() => {
      this.refresh().catch(this.#onError);
    }, this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #fetchShared(): Promise<Discovery> {
    this.#inFlight ??= this.#fetchOnce().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetchOnce(): Promise<Discovery> {
    let res: Response;
    try {
      res = await this.#fetch(this.#url, {
        headers: { accept: 'application/xml, text/xml' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new DiscoveryError(`Cannot reach the editor's discovery at ${this.#url}: ${describe(err)}`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new DiscoveryError(
        `The editor's discovery at ${this.#url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; is EDITOR_URL right, and is WOPI enabled in the editor?`,
      );
    }
    let discovery: Discovery;
    try {
      discovery = parseDiscovery(await res.text());
    } catch (err) {
      throw new DiscoveryError(`The editor's discovery at ${this.#url} is not usable: ${describe(err)}`, {
        cause: err,
      });
    }
    this.#cached = { discovery, fetchedAt: this.#now() };
    return discovery;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
