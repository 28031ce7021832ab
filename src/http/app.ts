import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { sendError } from './errors.ts';
import { lazyChildLogger, logRequests } from './logging.ts';
import { registerMetrics } from './metrics.ts';
import { discardUnreadBody } from './unread-body.ts';
import { registerWopiRoutes } from './wopi-routes.ts';

export interface HttpOptions {
  logger?: FastifyServerOptions['logger'];
  /** Serve Prometheus metrics at /metrics. */
  metrics?: boolean;
}

/**
 * The HTTP face of Quire: a Fastify app with the WOPI endpoints, /healthz, optional metrics, and the one error
 * mapper. Bodies are never parsed or buffered here: every route reads (or streams) its own, through core/streams.
 * Quire's web app (web/) registers its routes on the same app.
 */
export function buildHttpApp(host: WopiHost, editor: Editor, options: HttpOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    // one line per request at debug, written by logRequests with tokens redacted; Fastify's own two would carry them
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    // WOPI access tokens can be long, and so can file ids handed in by integrators
    routerOptions: { maxParamLength: 1024 },
    // Keep bodies unread: every content type reaches the handler as the raw request stream.
    bodyLimit: Number.MAX_SAFE_INTEGER,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  // Whatever a route answered (a refusal before the body, a body it had no use for), the body it left unread
  // is drained or the connection closed, so the next request on the connection is not stuck behind it.
  // (callback hooks: they run on every request, and an async one costs a promise each time)
  app.addHook('onSend', (request, reply, payload, done) => {
    discardUnreadBody(request, reply);
    done(null, payload);
  });
  logRequests(app);
  if (options.metrics) registerMetrics(app);
  registerWopiRoutes(app, host, editor);
  app.get('/healthz', async () => ({ ok: true }));
  return app;
}
