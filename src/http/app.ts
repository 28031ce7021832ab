import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { WopiHost } from '../wopi/context.ts';
import { registerPages } from './pages.ts';
import { registerWopiRoutes } from './wopi-routes.ts';

/**
 * The HTTP face of Quire. Bodies are never parsed or buffered here: the WOPI operations stream them.
 */
export function buildHttpApp(
  host: WopiHost,
  options: { logger?: FastifyServerOptions['logger'] } = {},
): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    // WOPI access tokens can be long, and so can file ids handed in by integrators
    routerOptions: { maxParamLength: 1024 },
    // Keep bodies unread: every content type reaches the handler as the raw request stream.
    bodyLimit: Number.MAX_SAFE_INTEGER,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.setErrorHandler((err: { statusCode?: number; message?: string }, request, reply) => {
    const code = err.statusCode;
    const status = typeof code === 'number' && code >= 400 && code < 500 ? code : 500;
    if (status === 500) request.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: status === 500 ? 'internal server error' : err.message }));
  });
  registerWopiRoutes(app, host);
  registerPages(app, host);
  return app;
}
