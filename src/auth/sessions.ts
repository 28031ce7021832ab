import { createHmac } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Sign-in sessions as HS256 JWTs: who (the subject), for what (the session audience), until when. Pure functions
 * over values; where the token travels (a cookie) is the web app's business.
 */

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SESSION_AUDIENCE = 'quire-session';

/** A key of its own for sessions, so a session can never pass as an access token or the other way round. */
const sessionKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('quire session cookie v1').digest());

export interface SessionToken {
  token: string;
  /** How long the token is good for, in whole seconds: the cookie's Max-Age. */
  maxAgeSeconds: number;
}

/**
 * A session for `userId`, signed with a key derived from Quire's secret (never the secret itself), valid for
 * `ttlMs` (12 hours unless given) from `now` (ms since epoch).
 */
export async function mintSessionToken(input: {
  userId: string;
  secret: Uint8Array;
  now: number;
  ttlMs?: number | undefined;
  /** The server-side record of this sign-in, so signing out can end it everywhere. */
  signInId?: string | undefined;
}): Promise<SessionToken> {
  const { now } = input;
  // Round the expiry down: a session may end up to a second early, never late.
  const exp = Math.floor((now + (input.ttlMs ?? DEFAULT_SESSION_TTL_MS)) / 1000);
  const token = await new SignJWT(input.signInId === undefined ? {} : { sid: input.signInId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.userId)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(exp)
    .sign(sessionKey(input.secret));
  return { token, maxAgeSeconds: Math.max(0, exp - Math.floor(now / 1000)) };
}

/** Who a session token stands for at `now` (and which sign-in), or null when forged, tampered with or expired. */
export async function verifySessionToken(
  token: string,
  input: { secret: Uint8Array; now: number },
): Promise<{ userId: string; signInId?: string } | null> {
  try {
    const { payload } = await jwtVerify(token, sessionKey(input.secret), {
      algorithms: ['HS256'],
      audience: SESSION_AUDIENCE,
      currentDate: new Date(input.now),
      requiredClaims: ['exp', 'sub'],
    });
    if (typeof payload.sub !== 'string') return null;
    return { userId: payload.sub, ...(typeof payload.sid === 'string' && { signInId: payload.sid }) };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
