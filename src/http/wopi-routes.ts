import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidTokenError } from '../auth/tokens.ts';
import type { Editor } from '../discovery/editor.ts';
import { FileNotFoundError } from '../storage/types.ts';
import type { WopiHost, WopiOperation, WopiRequest, WopiResult } from '../wopi/context.ts';
import { badRequest, notImplemented, unauthorized, WopiError } from '../wopi/errors.ts';
import { H } from '../wopi/headers.ts';
import { NameError } from '../wopi/names.ts';
import { operations } from '../wopi/operations.ts';
import { discardUnreadBody } from './unread-body.ts';

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

async function toWopiRequest(host: WopiHost, request: Req, token: string): Promise<WopiRequest> {
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

/**
 * Checks that the request was signed by the configured editor (X-WOPI-Proof). 'log' only reports; 'enforce'
 * refuses with 500, the answer WOPI gives for a failed proof.
 */
async function checkProofOf(editor: Editor, publicUrl: string, request: Req, token: string): Promise<void> {
  if (editor.proofMode === 'off' || !editor.configured) return;
  const header = headerOf(request);
  const verdict = await editor.verifyProof({
    accessToken: token,
    url: publicUrl + request.url,
    timestamp: header(H.proofTimestamp),
    proof: header(H.proof),
    proofOld: header(H.proofOld),
  });
  if (verdict.ok) return;
  if (editor.proofMode === 'log') {
    request.log.warn({ reason: verdict.reason }, 'WOPI proof check failed (proof keys: log)');
    return;
  }
  throw new WopiError(500, `proof check failed: ${verdict.reason}`);
}

/** Header values must be printable ASCII; reasons may quote a user's name, so anything else is escaped. */
const headerSafe = (value: string) =>
  value.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function handler(host: WopiHost, editor: Editor, pick: (request: Req) => WopiOperation) {
  return async (request: Req, reply: FastifyReply) => {
    try {
      const token = accessToken(request);
      const req = await toWopiRequest(host, request, token);
      await checkProofOf(editor, host.urls.publicUrl, request, token);
      const result = await pick(request)(host, req);
      discardUnreadBody(request, reply);
      return send(reply, result);
    } catch (err) {
      discardUnreadBody(request, reply);
      const wopiError = asWopiError(err);
      if (!wopiError) throw err;
      request.log.info({ status: wopiError.status, reason: wopiError.message }, 'wopi request refused');
      const headers = { ...wopiError.headers, [H.serverError]: wopiError.message };
      return reply
        .code(wopiError.status)
        .headers(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerSafe(v)])))
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

const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, X-WOPI-*, X-COOL-WOPI-*, X-LOOL-WOPI-*';
const CORS_EXPOSE_HEADERS = [H.itemVersion, H.lock, H.lockFailureReason, H.validRelativeTarget, H.serverError].join(
  ', ',
);

/**
 * Editors normally call WOPI from their servers; an editor page calling from the browser (a stand-in editor, some
 * embedded viewers) needs CORS, which is granted to the editor's own origins only.
 */
function registerCors(app: FastifyInstance, editor: Editor): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !request.url.startsWith('/wopi/') || !editor.origins().includes(origin)) return;
    reply.headers({
      'Access-Control-Allow-Origin': origin,
      Vary: 'Origin',
      'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
    });
  });
  app.options('/wopi/*', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !editor.origins().includes(origin)) return reply.code(403).send();
    const asked = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .headers({
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': typeof asked === 'string' ? asked : CORS_ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
      })
      .send();
  });
}

/** The WOPI endpoints: thin mapping from routes and X-WOPI-Override values to the operations in wopi/. */
export function registerWopiRoutes(app: FastifyInstance, host: WopiHost, editor: Editor): void {
  registerCors(app, editor);
  app.get(
    '/wopi/files/:id',
    handler(host, editor, () => operations.fileGet),
  );
  app.post('/wopi/files/:id', handler(host, editor, byOverride(operations.filePost)));
  app.get(
    '/wopi/files/:id/contents',
    handler(host, editor, () => operations.contentsGet),
  );
  app.post('/wopi/files/:id/contents', handler(host, editor, byOverride(operations.contentsPost)));
}
