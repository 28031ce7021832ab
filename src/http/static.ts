import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const HOST_PAGE_SCRIPT = readFileSync(new URL('./assets/host-page.js', import.meta.url), 'utf8');

/** Scripts the pages load (kept out of the HTML so the pages can forbid inline script). */
export function registerStatic(app: FastifyInstance): void {
  app.get('/static/host-page.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(HOST_PAGE_SCRIPT),
  );
}
