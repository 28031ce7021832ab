import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuireError, unauthorized } from '../core/errors.ts';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost, WopiRequest, WopiResult } from '../wopi/context.ts';
import { H } from '../wopi/headers.ts';
import { type Endpoint, operationFor } from '../wopi/operations.ts';
import type { RouteKind } from './errors.ts';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | string[] | undefined> }>;

function accessToken(request: Req): string {
  const q = request.query.access_token;
  if (Array.isArray(q)) throw new QuireError(400, 'access_token is given more than once');
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
  const grant = await host.tokens.verify(token);
  if (grant.fileId !== request.params.id) throw unauthorized('access token is for another file');
  const length = request.headers['content-length'];
  const header = headerOf(request);
  return {
    fileId: request.params.id,
    grant,
    header,
    body: request.raw,
    // made only when an operation writes an event (reads do not)
    get actor() {
      return {
        userId: grant.userId,
        userName: grant.userName,
        address: request.ip,
        client: header('user-agent'),
        correlationId: header(H.correlationId),
        sessionId: header(H.sessionId),
      };
    },
    ...(length !== undefined && /^\d+$/.test(length) ? { contentLength: Number(length) } : {}),
  };
}

function send(reply: FastifyReply, result: WopiResult): FastifyReply {
  reply.code(result.status).headers(result.headers ?? {});
  if (result.stream) return reply.send(result.stream);
  const json = result.jsonText ?? (result.json === undefined ? undefined : JSON.stringify(result.json));
  if (json !== undefined) return reply.type('application/json; charset=utf-8').send(json);
  return reply.send('');
}

/**
 * Checks that the request was signed by the configured editor (X-WOPI-Proof). 'log' only reports; 'enforce'
 * refuses with 500, the answer WOPI gives for a failed proof.
 */
async function checkProofOf(editor: Editor, origin: string, request: Req, token: string): Promise<void> {
  if (editor.proofMode === 'off' || !editor.configured) return;
  const header = headerOf(request);
  const verdict = await editor.verifyProof({
    accessToken: token,
    // the URL the editor called: the public origin and the path as it arrived (base path included)
    url: origin + request.url,
    timestamp: header(H.proofTimestamp),
    proof: header(H.proof),
    proofOld: header(H.proofOld),
  });
  if (verdict.ok) return;
  if (editor.proofMode === 'log') {
    request.log.warn({ reason: verdict.reason }, 'WOPI proof check failed (proof keys: log)');
    return;
  }
  throw new QuireError(500, `proof check failed: ${verdict.reason}`);
}

function handler(host: WopiHost, editor: Editor, endpoint: Endpoint) {
  return async (request: Req, reply: FastifyReply) => {
    const token = accessToken(request);
    const req = await toWopiRequest(host, request, token);
    await checkProofOf(editor, host.urls.origin, request, token);
    const operation = operationFor(endpoint, request.method, req.header(H.override));
    return send(reply, await operation(host, req));
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
  const wopiPath = `${app.prefix}/wopi/`;
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin && request.url.startsWith(wopiPath) && editor.origins().includes(origin)) {
      reply.headers({
        'Access-Control-Allow-Origin': origin,
        Vary: 'Origin',
        'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
      });
    }
    done();
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

/** The WOPI endpoints: a thin mapping from routes and X-WOPI-Override values to the operations in wopi/. */
export function registerWopiRoutes(app: FastifyInstance, host: WopiHost, editor: Editor): void {
  registerCors(app, editor);
  const config: RouteKind = { wopi: true };
  app.get('/wopi/files/:id', { config }, handler(host, editor, 'file'));
  app.post('/wopi/files/:id', { config }, handler(host, editor, 'file'));
  app.get('/wopi/files/:id/contents', { config }, handler(host, editor, 'contents'));
  app.post('/wopi/files/:id/contents', { config }, handler(host, editor, 'contents'));
}
