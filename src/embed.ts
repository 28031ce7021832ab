import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Quire, type QuireOptions } from './quire.ts';

/**
 * Quire inside another server: one request listener that plain `node:http`, Express, Koa and friends can call, a
 * Fastify plugin, and `close()`. Quire answers under the path of its public URL (`https://example.com/office` →
 * `/office/…`), so several apps can share one origin.
 */
export interface EmbeddedQuire {
  /**
   * A `node:http` request listener for requests under the base path: `createServer(quire.handler)`, or in Express
   * `app.use('/office', quire.handler)` (Express's mount path is put back: Quire routes on the full path).
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A Fastify plugin that hands every request under the base path to Quire, body unread:
   * `await app.register(quire.fastifyPlugin)`.
   */
  readonly fastifyPlugin: FastifyPluginAsync;
  /** The path Quire answers under ('' at the root, '/office' …). */
  readonly basePath: string;
  /** The Quire behind it: storage, accounts, tokens, maintenance. */
  readonly quire: Quire;
  /** Stops Quire's background work and closes its storage (in-flight requests get a short grace period). */
  close(): Promise<void>;
}

export interface EmbedOptions extends QuireOptions {
  /**
   * Where browsers and editors reach Quire, path included: `https://example.com/office`. Required when embedded:
   * Quire does not listen, so it cannot learn its address.
   */
  publicUrl: string;
}

/** An Express-style request that was routed through a mount path (req.url then lacks it). */
type MountedRequest = IncomingMessage & { originalUrl?: string };

/**
 * Creates a Quire to mount in another server. It serves no port of its own; the host server passes requests in.
 *
 * ```ts
 * const quire = await createQuire({ dataDir: './quire-data', publicUrl: 'http://127.0.0.1:3000/office' });
 * expressApp.use('/office', quire.handler);
 * ```
 */
export async function createQuire(options: EmbedOptions): Promise<EmbeddedQuire> {
  if (typeof options.publicUrl !== 'string' || options.publicUrl === '') {
    throw new TypeError('createQuire needs publicUrl: where browsers and editors reach Quire, with its path');
  }
  const quire = await Quire.create(options);
  const app: FastifyInstance = quire.app;
  try {
    await app.ready();
  } catch (err) {
    await quire.close().catch(() => {});
    throw err;
  }
  quire.start();
  const basePath = new URL(quire.publicUrl).pathname.replace(/\/+$/, '');

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const mounted = req as MountedRequest;
    // Express strips its mount path from req.url and keeps the full one in originalUrl
    if (typeof mounted.originalUrl === 'string' && mounted.originalUrl !== req.url) req.url = mounted.originalUrl;
    app.routing(req, res);
  };

  const fastifyPlugin: FastifyPluginAsync = async (outer) => {
    // Quire reads (or drains) every body itself: nothing is parsed on the way in
    outer.removeAllContentTypeParsers();
    outer.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const pass = (request: { raw: IncomingMessage }, reply: { hijack(): void; raw: ServerResponse }) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    };
    outer.all(`${basePath}/*`, async (request, reply) => pass(request, reply));
    if (basePath !== '') outer.all(basePath, async (request, reply) => pass(request, reply));
  };

  return {
    handler,
    fastifyPlugin,
    basePath,
    quire,
    close: async () => void (await quire.close()),
  };
}
