import { apiKeySecretMatches, newApiKey, parseApiKey } from '../auth/api-key.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, notFound, QuireError } from '../core/errors.ts';
import { EVENT } from '../documents/events.ts';
import type { Actor, ApiKey, ApiKeyRecord, ApiKeyStore, User } from '../storage/types.ts';

/**
 * Service API keys: another app drives Quire's JSON API with one (`Authorization: Bearer quire_…`), as a service
 * that may act on every document, limited by the key's scopes. Admins make and revoke them (CLI, web page); every
 * change is an event. Keys never manage people, groups or other keys: a leaked key cannot make itself more keys.
 */

/** What a key may be allowed, each a separate grant. */
export const API_SCOPES = ['files:read', 'files:write', 'tokens', 'webhooks'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** What each scope allows, in the words the CLI's help and the admin page use. */
export const SCOPE_NOTES: Record<ApiScope, string> = {
  'files:read': 'List and read documents: details, content, versions, who has access, their activity.',
  'files:write': 'Upload, create, rename, restore and delete documents; share them; break locks.',
  tokens: 'Mint access tokens for your own users, with the host-page URL to embed the editor.',
  webhooks: 'Register, change and remove webhooks, and read their deliveries.',
};

export const isApiScope = (value: unknown): value is ApiScope =>
  typeof value === 'string' && (API_SCOPES as readonly string[]).includes(value);

/** A key's scopes as given (a list, or words separated by commas or spaces): known ones, each once, or 400. */
export function checkScopes(given: unknown): ApiScope[] {
  const words = Array.isArray(given)
    ? given
    : typeof given === 'string'
      ? given.split(/[\s,]+/).filter((w) => w !== '')
      : null;
  if (!words || words.length === 0) throw badRequest(`give the key at least one scope: ${API_SCOPES.join(', ')}`);
  const unknown = words.filter((w) => !isApiScope(w));
  if (unknown.length > 0) {
    throw badRequest(`unknown scope ${JSON.stringify(unknown[0])}: the scopes are ${API_SCOPES.join(', ')}`);
  }
  return API_SCOPES.filter((s) => words.includes(s));
}

/** A key's name: 1 to 100 characters of text, saying which app uses it. */
export function checkKeyName(given: unknown): string {
  const name = typeof given === 'string' ? given.trim() : '';
  if (name === '') throw badRequest('give the key a name (which app uses it)');
  if (name.length > 100) throw badRequest('a key name is at most 100 characters');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badRequest('a key name cannot hold control characters');
  return name;
}

/** Why a stored key does not work at `now`, or null when it does. */
export function apiKeyProblem(key: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now: number): string | null {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'the API key was revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'the API key has expired';
  return null;
}

/** The prefix of the user ids that stand for a key: a key is a principal of its own, never a Quire account. */
export const SERVICE_ID_PREFIX = 'apikey:';

/**
 * The principal a key's requests act as: like an admin (every document, every role), which the key's scopes then
 * limit route by route. Its id can never be a Quire user's (those are hex) nor another key's.
 */
export function serviceUser(key: ApiKey): User {
  return {
    id: `${SERVICE_ID_PREFIX}${key.id}`,
    name: `${SERVICE_ID_PREFIX}${key.id}`,
    displayName: `API key ${key.name}`,
    isAdmin: true,
    createdAt: key.createdAt,
    disabledAt: null,
  };
}

/**
 * The user id an integrator's own user has in Quire (CheckFileInfo's UserId, the event log): stable per key and
 * external id, and never equal to a Quire user's, a guest's or another key's users' ids.
 */
export const externalUserId = (keyId: string, externalId: string) => `ext:${keyId}:${externalId}`;

/** What `WWW-Authenticate` says to a client whose key was refused (RFC 6750). */
const WWW_AUTHENTICATE = 'WWW-Authenticate';
const quoted = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/** A request whose key is missing, malformed, unknown, wrong, revoked or expired: 401 with the reason. */
export class ApiKeyRefused extends QuireError {
  override name = 'ApiKeyRefused';
  constructor(reason: string) {
    super(401, reason, {
      headers: {
        [WWW_AUTHENTICATE]: `Bearer realm="quire", error="invalid_token", error_description=${quoted(reason)}`,
      },
    });
  }
}

/** A valid key without the scope the route needs: 403 naming it. */
export class ScopeMissing extends QuireError {
  override name = 'ScopeMissing';
  constructor(readonly scope: ApiScope) {
    super(403, `this API key lacks the scope "${scope}"`, {
      headers: { [WWW_AUTHENTICATE]: `Bearer realm="quire", error="insufficient_scope", scope="${scope}"` },
      body: { scope },
    });
  }
}

/** What the CLI and the pages ask for: 401 with `WWW-Authenticate: Bearer` for a request with no credentials. */
export const BEARER_CHALLENGE = { [WWW_AUTHENTICATE]: 'Bearer realm="quire"' } as const;

/** How often a key's last use is written at most: a busy integration costs one write a minute, not one a request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** How long a looked-up key is remembered: a revocation still reaches every instance within this. */
const REMEMBER_MS = 1000;

/** A new key as made: the stored key and, once only, the whole key to hand over. */
export interface CreatedApiKey {
  apiKey: ApiKey;
  /** `quire_<id>_<secret>`: shown to whoever made it, never stored, never shown again. */
  key: string;
}

export class ApiKeys {
  private readonly remembered = new Map<string, { at: number; key: ApiKeyRecord }>();
  private readonly usesWritten = new Map<string, number>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly clock: Clock,
  ) {}

  /** Makes a key; `actor` is the admin (or the CLI operator), recorded as its maker and in the event. */
  async create(
    input: { name: unknown; scopes: unknown; expiresAt?: number | null },
    actor: Actor & { userId: string },
  ): Promise<CreatedApiKey> {
    const name = checkKeyName(input.name);
    const scopes = checkScopes(input.scopes);
    const now = this.clock.now();
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= now)) {
      throw badRequest('the expiry must be in the future');
    }
    const made = newApiKey();
    const apiKey = await this.store.createKey(
      {
        id: made.id,
        name,
        scopes,
        createdAt: now,
        createdBy: actor.userId,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
        secretHash: made.secretHash,
      },
      (key) => ({
        type: EVENT.apiKeyCreated,
        ...actor,
        details: { key: key.id, name: key.name, scopes: key.scopes, expiresAt: key.expiresAt },
      }),
    );
    return { apiKey, key: made.key };
  }

  list(): Promise<ApiKey[]> {
    return this.store.listKeys();
  }

  /** Revokes the key (and with it every token minted with it); 404 when there is none. Revoking twice is fine. */
  async revoke(id: string, actor: Actor): Promise<ApiKey> {
    const key = await this.store.revokeKey(id, this.clock.now(), (k) => ({
      type: EVENT.apiKeyRevoked,
      ...actor,
      details: { key: k.id, name: k.name },
    }));
    if (!key) throw notFound('no such API key');
    this.remembered.delete(id);
    return key;
  }

  /**
   * The key an `Authorization` header carries, if it is one that works now; ApiKeyRefused with the reason
   * otherwise. Notes the use (at most once a minute per key and process).
   */
  async authenticate(header: string): Promise<ApiKey> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
    if (!m) throw new ApiKeyRefused('send the API key as "Authorization: Bearer quire_…", and nothing after it');
    const parsed = parseApiKey(m[1] as string);
    if (!parsed) throw new ApiKeyRefused('that is not a Quire API key (they look like quire_…)');
    const now = this.clock.now();
    const key = await this.lookUp(parsed.id, now);
    // an unknown id and a wrong secret answer alike, so guessing learns nothing
    if (!key || !apiKeySecretMatches(parsed.secret, key.secretHash)) {
      throw new ApiKeyRefused('this API key is not valid');
    }
    const problem = apiKeyProblem(key, now);
    if (problem) throw new ApiKeyRefused(problem);
    await this.noteUse(key, now);
    const { secretHash: _, ...apiKey } = key;
    return apiKey;
  }

  private async lookUp(id: string, now: number): Promise<ApiKeyRecord | null> {
    const hit = this.remembered.get(id);
    if (hit && now - hit.at < REMEMBER_MS && now >= hit.at) return hit.key;
    const key = await this.store.getKey(id);
    // only keys that exist are remembered: made-up ids cannot fill the memory
    if (key) this.remembered.set(id, { at: now, key });
    else this.remembered.delete(id);
    return key;
  }

  private async noteUse(key: ApiKeyRecord, now: number): Promise<void> {
    const last = Math.max(key.lastUsedAt ?? Number.NEGATIVE_INFINITY, this.usesWritten.get(key.id) ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.usesWritten.set(key.id, now);
    await this.store.markUsed(key.id, now);
  }
}
