import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidTokenError } from '../auth/tokens.ts';
import { FileNotFoundError } from '../storage/types.ts';
import type { WopiHost, WopiOperation, WopiRequest, WopiResult } from '../wopi/context.ts';
import { badRequest, notImplemented, unauthorized, WopiError } from '../wopi/errors.ts';
import { H } from '../wopi/headers.ts';
import { NameError } from '../wopi/names.ts';
import { operations } from '../wopi/operations.ts';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | string[] | undefined> }>;

function accessToken(request: Req): string {
  const q = request.query.access_token;
  if (Array.isArray(q)) throw badRequest('access_token is given more than once');
  if (q) return q;
  const auth = request.headers.authorization;
  const bearer = auth?.match(/^Bearer\s+(\S+)$/i);
  if (bearer?.[1]) return bearer[1];
  throw unauthorized('access token is missing');
}

function headerOf(request: Req) {
  return (name: string): string | undefined => {
    const v = request.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
}

async function toWopiRequest(host: WopiHost, request: Req): Promise<WopiRequest> {
  const token = accessToken(request);
  let grant: WopiRequest['grant'];
  try {
    grant = await host.tokens.verify(token);
  } catch (err) {
    if (err instanceof InvalidTokenError) throw unauthorized(err.message);
    throw err;
  }
  if (grant.fileId !== request.params.id) throw unauthorized('access token is for another file');
  const length = request.headers['content-length'];
  return {
    fileId: request.params.id,
    grant,
    header: headerOf(request),
    body: request.raw,
    ...(length !== undefined && /^\d+$/.test(length) ? { contentLength: Number(length) } : {}),
  };
}

function send(reply: FastifyReply, result: WopiResult): FastifyReply {
  reply.code(result.status).headers(result.headers ?? {});
  if (result.stream) return reply.send(result.stream);
  if (result.json !== undefined) return reply.type('application/json; charset=utf-8').send(JSON.stringify(result.json));
  return reply.send('');
}

/** Protocol refusals become their status; storage's "no such file" becomes 404; anything else is a real 500. */
function asWopiError(err: unknown): WopiError | null {
  if (err instanceof WopiError) return err;
  if (err instanceof FileNotFoundError) return new WopiError(404, 'file not found');
  if (err instanceof NameError) return badRequest(err.message);
  return null;
}

function handler(host: WopiHost, pick: (request: Req) => WopiOperation) {
  return async (request: Req, reply: FastifyReply) => {
    try {
      const req = await toWopiRequest(host, request);
      return send(reply, await pick(request)(host, req));
    } catch (err) {
      const wopiError = asWopiError(err);
      if (!wopiError) throw err;
      request.log.info({ status: wopiError.status, reason: wopiError.message }, 'wopi request refused');
      return reply
        .code(wopiError.status)
        .headers({ ...wopiError.headers, [H.serverError]: wopiError.message })
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: wopiError.message, ...wopiError.body }));
    }
  };
}

function byOverride(table: Record<string, WopiOperation>) {
  return (request: Req): WopiOperation => {
    const raw = headerOf(request)(H.override);
    if (!raw) throw badRequest(`${H.override} is required`);
    const op = table[raw.trim().toUpperCase()];
    if (!op) throw notImplemented(`${H.override}: ${raw} is not supported on this endpoint`);
    return op;
  };
}

/** The WOPI endpoints: thin mapping from routes and X-WOPI-Override values to the operations in wopi/. */
export function registerWopiRoutes(app: FastifyInstance, host: WopiHost): void {
  app.get(
    '/wopi/files/:id',
    handler(host, () => operations.fileGet),
  );
  app.post('/wopi/files/:id', handler(host, byOverride(operations.filePost)));
  app.get(
    '/wopi/files/:id/contents',
    handler(host, () => operations.contentsGet),
  );
  app.post('/wopi/files/:id/contents', handler(host, byOverride(operations.contentsPost)));
}
