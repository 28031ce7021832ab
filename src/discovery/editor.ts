import { checkProof, type ProofCheckInput } from '../auth/proof-keys.ts';
import type { Clock } from '../core/clock.ts';
import { buildActionUrl } from './action-url.ts';
import { DiscoveryClient } from './client.ts';
import type { Discovery, DiscoveryAction } from './discovery.ts';
import type { Flavour } from './flavour.ts';

/** What a host page can open a file for: the editor actions Quire uses. */
export type HostPageAction = 'view' | 'edit' | 'editnew';

/** What to do with X-WOPI-Proof: ignore it, log failures, or refuse requests that fail (500, as WOPI says). */
export type ProofMode = 'off' | 'log' | 'enforce';

export interface EditorSettings {
  /** The WOPI client's base URL; its discovery XML is at URL/hosting/discovery. */
  url?: string;
  /** Overrides the flavour read from discovery. */
  flavour?: Flavour;
  proofKeys?: ProofMode;
  /** UI language for the editor (UI_LLCC), e.g. "en-US". */
  uiLanguage?: string;
  /** Discovery refresh period. */
  refreshMs?: number;
}

/** Proof failures may mean rotated keys; refetch discovery for them, but not more often than this. */
const MIN_PROOF_REFRESH_GAP_MS = 60_000;

export interface ResolvedAction {
  action: DiscoveryAction;
  url: string;
}

/**
 * The editor Quire embeds, as far as Quire needs to know it: its flavour, its action URLs, where its frames live
 * (for CORS), and the proof keys its WOPI calls are checked with.
 */
export class Editor {
  readonly discovery: DiscoveryClient | undefined;
  private lastProofRefresh = Number.NEGATIVE_INFINITY;

  constructor(
    readonly settings: EditorSettings,
    private readonly clock: Clock,
    onError: (err: unknown) => void = () => {},
  ) {
    this.discovery = settings.url
      ? new DiscoveryClient({
          editorUrl: settings.url,
          ...(settings.refreshMs !== undefined && { refreshMs: settings.refreshMs }),
          now: () => clock.now(),
          onError,
        })
      : undefined;
  }

  get configured(): boolean {
    return this.discovery !== undefined;
  }

  get proofMode(): ProofMode {
    return this.settings.proofKeys ?? 'enforce';
  }

  /** The configured flavour, else the one discovery shows, else 'generic'. */
  flavour(): Flavour {
    return this.settings.flavour ?? this.discovery?.cached()?.flavour ?? 'generic';
  }

  start(): void {
    this.discovery?.start();
  }

  stop(): void {
    this.discovery?.stop();
  }

  async current(): Promise<Discovery | undefined> {
    return this.discovery?.get();
  }

  /** Origins the editor's pages are served from (allowed to call the WOPI endpoints from a browser). */
  origins(): string[] {
    return this.discovery?.cached()?.origins ?? [];
  }

  /**
   * The editor URL for opening `fileName` with `wanted`. Falls back to view when the editor cannot edit the format,
   * and to ONLYOFFICE's convert action for formats it edits only after conversion (e.g. .doc → .docx).
   */
  async resolveAction(
    fileName: string,
    wanted: HostPageAction,
    params: { wopiSrc: string; sessionContext?: string },
  ): Promise<ResolvedAction | undefined> {
    const discovery = await this.current();
    if (!discovery) return undefined;
    const order = {
      edit: ['edit', 'convert', 'view'],
      // a new, empty file: ONLYOFFICE and Microsoft have an action for it; otherwise editing it is the same
      editnew: ['editnew', 'edit', 'view'],
      view: ['view', 'embedview'],
    }[wanted];
    for (const name of order) {
      const action = discovery.action(fileName, name);
      if (!action) continue;
      const url = buildActionUrl(action.urlsrc, {
        wopiSrc: params.wopiSrc,
        ...(this.settings.uiLanguage && {
          uiLanguage: this.settings.uiLanguage,
          dataLanguage: this.settings.uiLanguage,
        }),
        ...(params.sessionContext && { sessionContext: params.sessionContext }),
      });
      return { action, url };
    }
    return undefined;
  }

  /**
   * Checks a WOPI request's proof against the discovery keys; on failure refetches discovery once (keys rotate)
   * and checks again. Passes when proofs are off, no editor is configured, or its discovery publishes no key.
   */
  async verifyProof(input: Omit<ProofCheckInput, 'now'>): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (this.proofMode === 'off' || !this.discovery) return { ok: true };
    let discovery: Discovery;
    try {
      discovery = await this.discovery.get();
    } catch (err) {
      return { ok: false, reason: `editor discovery unavailable: ${(err as Error).message}` };
    }
    const check = (d: Discovery) => {
      if (!d.proofKey) return { ok: true as const };
      return checkProof({ ...input, now: this.clock.now() }, d.proofKey);
    };
    const first = check(discovery);
    if (first.ok) return { ok: true };
    const now = this.clock.now();
    if (now - this.lastProofRefresh < MIN_PROOF_REFRESH_GAP_MS) return first;
    this.lastProofRefresh = now;
    try {
      const second = check(await this.discovery.refresh());
      return second.ok ? { ok: true } : second;
    } catch {
      return first;
    }
  }
}
