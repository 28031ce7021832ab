import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { sendError } from './errors.ts';
import { lazyChildLogger, logRequests, redactingLogger } from './logging.ts';
import { registerMetrics } from './metrics.ts';
import { type ReadinessCheck, registerReadiness } from './readiness.ts';
import { addSecurityHeaders, clientErrorHandler } from './security-headers.ts';
import { discardUnreadBody } from './unread-body.ts';
import { registerWopiRoutes } from './wopi-routes.ts';

export interface HttpOptions {
  logger?: FastifyServerOptions['logger'];
  /** Serve Prometheus metrics at /metrics. */
  metrics?: boolean;
  /** What /readyz checks besides the catalog (the blob store, free space …). */
  readiness?: Record<string, ReadinessCheck>;
  /**
   * The path every route is served under ('' or e.g. '/office'): the path of the public URL, so that Quire mounted
   * inside another app answers at that app's prefix.
   */
  basePath?: string;
  /** True while the instance shuts down: /readyz then answers 503 at once (see `registerReadiness`). */
  draining?: () => boolean;
}

/** What every answer gets done before it goes out: its unread body dealt with, and the security headers. */
function beforeAnswer(request: FastifyRequest, reply: FastifyReply): void {
  discardUnreadBody(request, reply);
  addSecurityHeaders(reply);
}

/** The catalog answers this lookup (of an id no file has) when it is up. */
const READINESS_PROBE_ID = 'quire-readiness-probe';

/**
 * The HTTP face of Quire: a Fastify app with the WOPI endpoints, /healthz, /readyz, optional metrics, and the one error
 * mapper. Bodies are never parsed or buffered here: every route reads (or streams) its own, through core/streams.
 * Quire's web app (web/) registers its routes on the same app.
 */
export function buildHttpApp(host: WopiHost, editor: Editor, options: HttpOptions = {}): FastifyInstance {
  const app = Fastify({
    // access tokens are kept out of every line, whatever logs it
    logger: redactingLogger(options.logger),
    // one line per request at debug, written by logRequests with tokens redacted; Fastify's own two would carry them
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    // WOPI access tokens can be long, and so can file ids handed in by integrators
    routerOptions: { maxParamLength: 1024 },
    // Keep bodies unread: every content type reaches the handler as the raw request stream.
    bodyLimit: Number.MAX_SAFE_INTEGER,
    // A request that reaches a keep-alive connection while Quire drains (the load balancer had not yet seen /readyz
    // turn 503) is answered, with Connection: close, rather than refused: the drain waits for it like any other.
    return503OnClosing: false,
    // requests Node's parser rejects, and URLs the router cannot decode, are answered like every other refusal
    clientErrorHandler,
    // (answered outside any route, so without its onSend hooks: what they do is done here)
    frameworkErrors: (err, request, reply) => {
      beforeAnswer(request, reply);
      return sendError(err, request, reply);
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  // Whatever a route answered (a refusal before the body, a body it had no use for), the body it left unread
  // is drained (or, past a limit, the connection ended after the answer), so neither the client nor the next
  // request on the connection is stuck behind it; and every answer, refusals and 404s included, gets nosniff and
  // a Referrer-Policy. (callback hooks: they run on every request, and an async one costs a promise each time)
  app.addHook('onSend', (request, reply, payload, done) => {
    beforeAnswer(request, reply);
    done(null, payload);
  });
  logRequests(app);
  app.register(
    async (routes) => {
      if (options.metrics) registerMetrics(routes);
      registerWopiRoutes(routes, host, editor);
      routes.get('/healthz', async () => ({ ok: true }));
      registerReadiness(
        routes,
        {
          catalog: async () => {
            await host.storage.catalog.getFile(READINESS_PROBE_ID);
            return undefined;
          },
          ...options.readiness,
        },
        options.draining,
      );
    },
    { prefix: options.basePath ?? '' },
  );
  return app;
}
