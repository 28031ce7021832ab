import { errors, jwtVerify, SignJWT } from 'jose';
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

/** Who may do what to which file, until when: what an access token stands for. */
export interface Grant {
  fileId: string;
  userId: string;
  userName: string;
  permissions: Permissions;
  /** A Quire administrator (Collabora shows admin features, e.g. ending others' sessions). */
  isAdmin?: boolean;
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

/** Access tokens as HS256 JWTs scoped to one file and one user. */
export class TokenService {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
  ) {}

  async mint(input: Omit<Grant, 'expiresAt'> & { ttlMs?: number }): Promise<MintedToken> {
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
      ...(input.isAdmin && { adm: true }),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(input.userId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.ceil(expiresAt / 1000))
      .setAudience('quire-wopi')
      .sign(this.secret);
    return { access_token: token, access_token_ttl: expiresAt };
  }

  async verify(token: string): Promise<Grant> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        audience: 'quire-wopi',
        currentDate: new Date(this.clock.now()),
      });
      const { fid, name, perm, sub, exp, xms, adm } = payload;
      if (typeof fid !== 'string' || typeof sub !== 'string' || typeof perm !== 'string' || typeof exp !== 'number') {
        throw new InvalidTokenError('access token lacks required claims');
      }
      // tokens minted before `xms` existed expire by `exp` alone (already checked by jwtVerify)
      const expiresAt = typeof xms === 'number' ? xms : exp * 1000;
      if (this.clock.now() >= expiresAt) throw new InvalidTokenError('access token expired');
      const permissions = Object.fromEntries(PERMISSION_CLAIMS.map(([k, c]) => [k, perm.includes(c)])) as unknown;
      return {
        fileId: fid,
        userId: sub,
        userName: typeof name === 'string' ? name : sub,
        permissions: permissions as Permissions,
        ...(adm === true && { isAdmin: true }),
        expiresAt,
      };
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
