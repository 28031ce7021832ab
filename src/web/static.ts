import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

/** The pages' scripts and styles, kept out of the HTML so the pages can forbid inline script. */
const ASSETS: Record<string, { type: string; body: string }> = {
  'host-page.js': { type: 'text/javascript; charset=utf-8', body: asset('host-page.js') },
  'common.js': { type: 'text/javascript; charset=utf-8', body: asset('common.js') },
  'app.js': { type: 'text/javascript; charset=utf-8', body: asset('app.js') },
  'locks.js': { type: 'text/javascript; charset=utf-8', body: asset('locks.js') },
  'activity.js': { type: 'text/javascript; charset=utf-8', body: asset('activity.js') },
  'share.js': { type: 'text/javascript; charset=utf-8', body: asset('share.js') },
  'admin.js': { type: 'text/javascript; charset=utf-8', body: asset('admin.js') },
  'api-keys.js': { type: 'text/javascript; charset=utf-8', body: asset('api-keys.js') },
  'webhooks.js': { type: 'text/javascript; charset=utf-8', body: asset('webhooks.js') },
  'app.css': { type: 'text/css; charset=utf-8', body: asset('app.css') },
};

export function registerStatic(app: FastifyInstance): void {
  app.get<{ Params: { name: string } }>('/static/:name', async (request, reply) => {
    const found = ASSETS[request.params.name];
    if (!found) return reply.code(404).send();
    return reply.type(found.type).header('Cache-Control', 'no-cache').send(found.body);
  });
}
