import { createHmac } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { TokenRole } from './tokens.ts';

/**
 * The ticket in a host-page URL an integrator puts in its own iframe (`/embed/{file}?ticket=…`): it opens the editor
 * for one of the integrator's users without a Quire sign-in. It names the grant (file, user, role, key, watermark),
 * not the access token: a URL ends up in logs and browser history, so what it carries works only for minutes, and the
 * page mints the token itself (posted to the editor, never in a URL). Pure functions over values.
 */

export const EMBED_TICKET_TTL_MS = 5 * 60 * 1000;
const AUDIENCE = 'quire-embed';

const ticketKey = (secret: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('quire embed ticket v1').digest());

export interface EmbedTicket {
  fileId: string;
  userId: string;
  userName: string;
  role: Exclude<TokenRole, 'owner'>;
  apiKeyId: string;
  /** Secure view's watermark, already filled in; absent when the document may be handed over. */
  watermark?: string;
  /** When the access token minted beside the ticket expires: the page's tokens expire then too. */
  tokenExpiresAt: number;
}

const ROLES: readonly string[] = ['viewer', 'commenter', 'editor'];

export async function mintEmbedTicket(
  ticket: EmbedTicket,
  secret: Uint8Array,
  now: number,
): Promise<{ ticket: string; expiresAt: number }> {
  const expiresAt = Math.min(now + EMBED_TICKET_TTL_MS, ticket.tokenExpiresAt);
  const signed = await new SignJWT({
    fid: ticket.fileId,
    name: ticket.userName,
    rol: ticket.role,
    key: ticket.apiKeyId,
    tex: ticket.tokenExpiresAt,
    ...(ticket.watermark !== undefined && { wm: ticket.watermark }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(ticket.userId)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(ticketKey(secret));
  return { ticket: signed, expiresAt };
}

/** The ticket, if `text` is a valid one for `fileId` at `now`; null when it is forged, expired or for another file. */
export async function verifyEmbedTicket(
  text: string,
  fileId: string,
  secret: Uint8Array,
  now: number,
): Promise<EmbedTicket | null> {
  try {
    const { payload: p } = await jwtVerify(text, ticketKey(secret), {
      algorithms: ['HS256'],
      audience: AUDIENCE,
      currentDate: new Date(now),
      requiredClaims: ['exp', 'sub'],
    });
    if (
      p.fid !== fileId ||
      typeof p.sub !== 'string' ||
      typeof p.name !== 'string' ||
      typeof p.rol !== 'string' ||
      !ROLES.includes(p.rol) ||
      typeof p.key !== 'string' ||
      typeof p.tex !== 'number'
    ) {
      return null;
    }
    return {
      fileId,
      userId: p.sub,
      userName: p.name,
      role: p.rol as EmbedTicket['role'],
      apiKeyId: p.key,
      tokenExpiresAt: p.tex,
      ...(typeof p.wm === 'string' && { watermark: p.wm }),
    };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
