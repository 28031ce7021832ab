import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { registerApi } from './api.ts';
import { registerHostPage } from './host-page.ts';
import { registerMetrics } from './metrics.ts';
import { registerPages } from './pages.ts';
import { registerSessionRoutes, type SessionOptions } from './session.ts';
import { registerStatic } from './static.ts';
import { registerWopiRoutes } from './wopi-routes.ts';

/**
 * The HTTP face of Quire. Bodies are never parsed or buffered here: the WOPI operations stream them.
 */
export interface HttpParts {
  host: WopiHost;
  editor: Editor;
  /** Sign-in for Quire's own pages; without it (an embedding app signs people in) only the WOPI API is served. */
  sessions?: SessionOptions | undefined;
}

export function buildHttpApp(
  { host, editor, sessions }: HttpParts,
  options: { logger?: FastifyServerOptions['logger']; metrics?: boolean } = {},
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
  if (options.metrics) registerMetrics(app);
  registerWopiRoutes(app, host, editor);
  app.get('/healthz', async () => ({ ok: true }));
  if (sessions) {
    registerSessionRoutes(app, sessions);
    registerStatic(app);
    registerHostPage(app, { host, editor, sessions });
    registerPages(app, host, sessions);
    registerApi(app, host, sessions);
  }
  return app;
}
