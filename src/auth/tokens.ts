import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.ts';
import { QuireError } from '../core/errors.ts';

export interface Permissions {
  write: boolean;
  rename: boolean;
  delete: boolean;
  writeRelative: boolean;
}

export const ALL_PERMISSIONS: Permissions = { write: true, rename: true, delete: true, writeRelative: true };
export const READ_ONLY: Permissions = { write: false, rename: false, delete: false, writeRelative: false };

/** The roles a token can carry (their rules live in access/roles.ts). */
export type TokenRole = 'viewer' | 'commenter' | 'editor' | 'owner';
const TOKEN_ROLES: readonly string[] = ['viewer', 'commenter', 'editor', 'owner'];

/** A token minted without a role (by an older Quire, or with bare permissions) has the role its permissions imply. */
export const roleOfPermissions = (p: Permissions): TokenRole => (p.delete ? 'owner' : p.write ? 'editor' : 'viewer');

/** Who may do what to which file, until when: what an access token stands for. */
export interface Grant {
  fileId: string;
  userId: string;
  userName: string;
  permissions: Permissions;
  /** What the holder may do, as a role: CheckFileInfo tells editors (comment-only, read-only) from it. */
  role: TokenRole;
  /** A Quire administrator (Collabora shows admin features, e.g. ending others' sessions). */
  isAdmin?: boolean;
  /** The sign-in the token was minted in: signing out ends the token too. */
  signInId?: string;
  /**
   * Minted for a person with a Quire account (the host page), however they signed in: the token lasts only while
   * the account stands and the access rules still give the token's role. Implied by `signInId`.
   */
  account?: boolean;
  /** The share link the token was minted through: disabling the link ends the token. */
  linkId?: string;
  /** The service API key the token was minted with (for one of its app's users): revoking the key ends the token. */
  apiKeyId?: string;
  /** A link's guest who gave no name (IsAnonymousUser). */
  anonymous?: boolean;
  /** Secure view: the watermark text to draw ('' for none); absent when the document may be handed over. */
  watermark?: string;
  /** ms since epoch */
  expiresAt: number;
}

export interface MintedToken {
  access_token: string;
  /** Expiry in ms since epoch, as WOPI's access_token_ttl wants it. */
  access_token_ttl: number;
}

/** A missing, forged, expired or foreign access token: 401. */
export class InvalidTokenError extends QuireError {
  override name = 'InvalidTokenError';
  constructor(reason: string) {
    super(401, reason);
  }
}

export const DEFAULT_TOKEN_TTL_MS = 10 * 60 * 60 * 1000;

const PERMISSION_CLAIMS: ReadonlyArray<[keyof Permissions, string]> = [
  ['write', 'w'],
  ['rename', 'n'],
  ['delete', 'd'],
  ['writeRelative', 'r'],
];

export interface TokenServiceOptions {
  /** How many verified tokens to remember (least recently used go first). Default 10,000. */
  cacheSize?: number;
  /**
   * Asked on every verification, remembered or not, so a token whose grant no longer stands (a removed share, a
   * disabled link, a sign-out) stops working although its signature check is cached. Resolves to the reason it is
   * refused, or null. It may remember answers briefly (access/revocation.ts does, for a second).
   */
  stillValid?: (grant: Grant) => Promise<string | null> | string | null;
}

/**
 * Access tokens as HS256 JWTs scoped to one file and one user. An editor presents the same token on every call
 * for hours, so each distinct token's signature is checked once and its grant remembered (bounded, least recently
 * used first); expiry and revocation are still checked on every call.
 */
export class TokenService {
  /** The secret as a ready key object: importing raw key bytes on every verification is the costly part. */
  private readonly key: KeyObject;
  private readonly verified: LRUCache<string, Grant>;
  private stillValid: (grant: Grant) => Promise<string | null> | string | null;

  constructor(
    secret: Uint8Array,
    private readonly clock: Clock,
    options: TokenServiceOptions = {},
  ) {
    this.key = createSecretKey(secret);
    this.verified = new LRUCache({ max: options.cacheSize ?? 10_000 });
    this.stillValid = options.stillValid ?? (() => null);
  }

  /** Later checks of every token's grant (access/revocation.ts), set once Quire is assembled. */
  checkWith(stillValid: (grant: Grant) => Promise<string | null> | string | null): void {
    this.stillValid = stillValid;
  }

  async mint(input: Omit<Grant, 'expiresAt' | 'role'> & { role?: TokenRole; ttlMs?: number }): Promise<MintedToken> {
    const now = this.clock.now();
    const expiresAt = now + (input.ttlMs ?? DEFAULT_TOKEN_TTL_MS);
    const perms = PERMISSION_CLAIMS.filter(([k]) => input.permissions[k])
      .map(([, c]) => c)
      .join('');
    // `exp` has whole seconds; `xms` keeps the exact expiry so access_token_ttl and the check agree to the ms
    const claims = {
      fid: input.fileId,
      name: input.userName,
      perm: perms,
      xms: expiresAt,
      rol: input.role ?? roleOfPermissions(input.permissions),
      ...(input.isAdmin && { adm: true }),
      ...(input.signInId !== undefined && { sid: input.signInId }),
      ...(input.account && { acc: true }),
      ...(input.linkId !== undefined && { lnk: input.linkId }),
      ...(input.apiKeyId !== undefined && { key: input.apiKeyId }),
      ...(input.anonymous && { anon: true }),
      ...(input.watermark !== undefined && { wm: input.watermark }),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(input.userId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.ceil(expiresAt / 1000))
      .setAudience('quire-wopi')
      .sign(this.key);
    return { access_token: token, access_token_ttl: expiresAt };
  }

  /** The grant a token stands for; InvalidTokenError when it is forged, expired, revoked or not an access token. */
  async verify(token: string): Promise<Grant> {
    const grant = this.verified.get(token) ?? (await this.verifySignature(token));
    if (this.clock.now() >= grant.expiresAt) {
      this.verified.delete(token);
      throw new InvalidTokenError('access token expired');
    }
    this.verified.set(token, grant);
    // operator-minted tokens are answered at once, without a turn of the event loop
    const answer = this.stillValid(grant);
    const refused = answer instanceof Promise ? await answer : answer;
    if (refused !== null) throw new InvalidTokenError(`access token no longer valid: ${refused}`);
    return grant;
  }

  private async verifySignature(token: string): Promise<Grant> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        audience: 'quire-wopi',
        currentDate: new Date(this.clock.now()),
      });
      const { fid, name, perm, sub, exp, xms, adm, rol, sid, acc, lnk, key, anon, wm } = payload;
      if (typeof fid !== 'string' || typeof sub !== 'string' || typeof perm !== 'string' || typeof exp !== 'number') {
        throw new InvalidTokenError('access token lacks required claims');
      }
      // tokens minted before `xms` existed expire by `exp` alone (already checked by jwtVerify)
      const expiresAt = typeof xms === 'number' ? xms : exp * 1000;
      const permissions = Object.fromEntries(
        PERMISSION_CLAIMS.map(([k, c]) => [k, perm.includes(c)]),
      ) as unknown as Permissions;
      const role =
        typeof rol === 'string' && TOKEN_ROLES.includes(rol) ? (rol as TokenRole) : roleOfPermissions(permissions);
      // shared by every request presenting this token: nobody may change it
      return Object.freeze({
        fileId: fid,
        userId: sub,
        userName: typeof name === 'string' ? name : sub,
        permissions: Object.freeze(permissions),
        role,
        ...(adm === true && { isAdmin: true }),
        ...(typeof sid === 'string' && { signInId: sid }),
        ...(acc === true && { account: true }),
        ...(typeof lnk === 'string' && { linkId: lnk }),
        ...(typeof key === 'string' && { apiKeyId: key }),
        ...(anon === true && { anonymous: true }),
        ...(typeof wm === 'string' && { watermark: wm }),
        expiresAt,
      });
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      if (err instanceof errors.JWTExpired) throw new InvalidTokenError('access token expired');
      if (err instanceof errors.JOSEError) throw new InvalidTokenError('access token is not valid');
      throw err;
    }
  }
}

/** Parses "10h", "30m", "45s", "2d" or plain milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 10h, 30m, 45s)`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return n * unit;
}
