import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asInsufficientStorage, QuireError } from '../core/errors.ts';
import { H } from '../wopi/headers.ts';

/**
 * The one place errors become responses, for every route (WOPI, JSON API, sign-in). A QuireError answers with its
 * status, reason, headers and body fields; a 4xx from Fastify itself (a malformed URL, say) with its status; a disk
 * or quota that ran out (ENOSPC, EDQUOT, SQLITE_FULL, PostgreSQL's disk_full) with 507; anything else is a bug:
 * logged in full (access tokens taken out, see logging.ts), answered 500 without details. Every answer is JSON,
 * `{"error": reason, …}`, and WOPI routes also carry the reason in X-WOPI-ServerError.
 */

/** Route config that marks a WOPI route: its refusals carry X-WOPI-ServerError. */
export interface RouteKind {
  wopi?: boolean;
}

// Fastify's route config is typed by what plugins declare (@fastify/swagger declares its keys): Quire's is declared too
declare module 'fastify' {
  interface FastifyContextConfig extends RouteKind {}
}

/** Header values must be printable ASCII; reasons may quote a user's name, so anything else is escaped. */
const headerSafe = (value: string) =>
  value.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function describe(err: unknown): QuireError | null {
  if (err instanceof QuireError) return err;
  // a full disk or quota, wherever it struck (a blob, the catalog): 507 with the reason, not an unexplained 500
  const full = asInsufficientStorage(err);
  if (full) return full;
  const status = (err as Partial<FastifyError> | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new QuireError(status, (err as Error).message);
  return null;
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const refusal = describe(err);
  if (!refusal) {
    request.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: 'internal server error' }));
  }
  const wopi = (request.routeOptions.config as RouteKind | undefined)?.wopi === true;
  // a refusal the host is to blame for (a full disk, a failed proof check) is worth a warning
  const fields = { status: refusal.status, reason: refusal.message };
  if (refusal.status >= 500) request.log.warn(fields, 'request refused');
  else request.log.info(fields, 'request refused');
  const headers = wopi ? { ...refusal.headers, [H.serverError]: refusal.message } : refusal.headers;
  return reply
    .code(refusal.status)
    .headers(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerSafe(v)])))
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: refusal.message, ...refusal.body }));
}
