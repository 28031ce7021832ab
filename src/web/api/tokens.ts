import type { FastifyInstance } from 'fastify';
import { externalUserId } from '../../access/api-keys.ts';
import { COMMENT_ONLY_FLAVOURS, isShareRole, permissionsOf, SHARE_ROLES } from '../../access/roles.ts';
import { renderWatermark } from '../../access/secure-view.ts';
import { mintEmbedTicket } from '../../auth/embed-ticket.ts';
import { DEFAULT_TOKEN_TTL_MS } from '../../auth/tokens.ts';
import { badRequest, forbidden } from '../../core/errors.ts';
import { EVENT } from '../../documents/events.ts';
import { type ApiContext, actorOf, documentFor } from './context.ts';
import { readJsonObject } from './json-body.ts';
import { TOKENS } from './schemas.ts';
import { apiKeyOf } from './service.ts';

/** What secure view draws when the integrator asks for it without a watermark of its own. */
const DEFAULT_WATERMARK = '{name} · {date}';
const MAX_TTL_MS = 24 * 60 * 60 * 1000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(value: unknown, what: string, max: number, { optional = false } = {}): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw badRequest(`${what} must be a non-empty string`);
  if (value.length > max) throw badRequest(`${what} is at most ${max} characters`);
  if (CONTROL.test(value)) throw badRequest(`${what} cannot hold control characters`);
  return value.trim();
}

/** `secureView`: absent or false (none), true (the default watermark), or `{"watermark": "…"}`. */
function watermarkTemplate(value: unknown): string | undefined {
  if (value === undefined || value === false || value === null) return undefined;
  if (value === true) return DEFAULT_WATERMARK;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const given = (value as Record<string, unknown>).watermark;
    if (given === undefined) return DEFAULT_WATERMARK;
    if (typeof given === 'string' && given.length <= 200 && !CONTROL.test(given)) return given;
  }
  throw badRequest('"secureView" must be true, false or {"watermark": "text of at most 200 characters"}');
}

/**
 * POST /api/files/{id}/tokens (scope `tokens`): an access token for one of the integrator's own users, who need not
 * exist in Quire, with the role the integrator decides; and the host-page URL that opens the editor for them in the
 * integrator's own iframe. The token names the key, so revoking the key ends it within a second.
 */
export function registerTokens(api: FastifyInstance, ctx: ApiContext): void {
  const { host } = ctx;
  api.post<{ Params: { id: string } }>('/api/files/:id/tokens', { schema: TOKENS.mint }, async (request, reply) => {
    const key = apiKeyOf(request);
    if (!key) throw forbidden('tokens for other users are minted with a service API key (scope "tokens")');
    const body = await readJsonObject(request);
    const who = body.user;
    if (!who || typeof who !== 'object' || Array.isArray(who)) {
      throw badRequest('"user" must be an object: {"id", "name", "email"?}');
    }
    const { id: rawId, name: rawName, email: rawEmail } = who as Record<string, unknown>;
    const externalId = text(rawId, '"user.id"', 200) as string;
    const userName = text(rawName, '"user.name"', 100) as string;
    const email = text(rawEmail, '"user.email"', 254, { optional: true });
    if (!isShareRole(body.role)) throw badRequest(`"role" must be one of ${SHARE_ROLES.join(', ')}`);
    const role = body.role;
    const template = watermarkTemplate(body.secureView);
    let ttlMs = DEFAULT_TOKEN_TTL_MS;
    if (body.ttlSeconds !== undefined) {
      const seconds = body.ttlSeconds;
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 60 || seconds * 1000 > MAX_TTL_MS) {
        throw badRequest('"ttlSeconds" must be a whole number of seconds from 60 to 86400');
      }
      ttlMs = seconds * 1000;
    }
    const { file } = await documentFor(ctx, request, request.params.id, 'viewer');

    const now = host.clock.now();
    const userId = externalUserId(key.id, externalId);
    const commentOnlyEditor = COMMENT_ONLY_FLAVOURS.includes(host.flavour());
    const watermark =
      template === undefined
        ? undefined
        : renderWatermark(template, { displayName: userName, name: externalId, email }, now);
    const minted = await host.tokens.mint({
      fileId: file.id,
      userId,
      userName,
      role,
      permissions: permissionsOf(role, { commentOnlyEditor }),
      apiKeyId: key.id,
      ttlMs,
      ...(watermark !== undefined && { watermark }),
    });
    const ticket = await mintEmbedTicket(
      {
        fileId: file.id,
        userId,
        userName,
        role,
        apiKeyId: key.id,
        tokenExpiresAt: minted.access_token_ttl,
        ...(watermark !== undefined && { watermark }),
      },
      ctx.sessions.secret,
      now,
    );
    await host.storage.events.append(
      {
        type: EVENT.tokenMinted,
        fileId: file.id,
        ...(await actorOf(ctx, request)),
        details: {
          for: userId,
          forName: userName,
          role,
          apiKey: key.id,
          secureView: watermark !== undefined,
          expiresAt: minted.access_token_ttl,
        },
      },
      now,
    );
    const hostPageUrl = `${host.urls.publicUrl}/embed/${encodeURIComponent(file.id)}?ticket=${ticket.ticket}`;
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        accessToken: minted.access_token,
        accessTokenTtl: minted.access_token_ttl,
        wopiSrc: host.urls.wopiSrc(file.id),
        hostPageUrl,
        hostPageUrlExpiresAt: new Date(ticket.expiresAt).toISOString(),
        userId,
      });
  });
}
