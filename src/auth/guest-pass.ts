import { createHmac } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * What a link's guest carries after giving a name (and the link's password): a signed pass for that one link, so
 * reopening the document does not ask again, on any instance. Pure functions over values; the pass travels in a
 * cookie scoped to the link's path.
 */

export const GUEST_PASS_TTL_MS = 12 * 60 * 60 * 1000;
const AUDIENCE = 'quire-guest';

const passKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('quire guest pass v1').digest());

export interface GuestPass {
  linkId: string;
  /** The guest's stable id (one per link and name), or a fresh one for an anonymous guest. */
  guestId: string;
  /** '' for an anonymous guest. */
  name: string;
}

export async function mintGuestPass(pass: GuestPass, secret: Uint8Array, now: number): Promise<string> {
  return new SignJWT({ lnk: pass.linkId, name: pass.name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(pass.guestId)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor((now + GUEST_PASS_TTL_MS) / 1000))
    .sign(passKey(secret));
}

/** The pass, if `token` is a valid one for `linkId` at `now`; null otherwise. */
export async function verifyGuestPass(
  token: string,
  linkId: string,
  secret: Uint8Array,
  now: number,
): Promise<GuestPass | null> {
  try {
    const { payload } = await jwtVerify(token, passKey(secret), {
      algorithms: ['HS256'],
      audience: AUDIENCE,
      currentDate: new Date(now),
      requiredClaims: ['exp', 'sub'],
    });
    if (payload.lnk !== linkId || typeof payload.sub !== 'string' || typeof payload.name !== 'string') return null;
    return { linkId, guestId: payload.sub, name: payload.name };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
