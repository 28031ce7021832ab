import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { registerApi } from './api/index.ts';
import { registerHostPage } from './host-page.ts';
import { LiveEvents, registerLiveEvents } from './live.ts';
import { registerPages } from './pages.ts';
import type { SessionOptions } from './session.ts';
import { registerSessionRoutes } from './sign-in.ts';
import { registerStatic } from './static.ts';

export type { SessionOptions } from './session.ts';

/**
 * Quire's web app: sign-in, the document pages, the host page that embeds the editor, and their JSON API. Its
 * routes live in a context of their own, so what they need (cookies) costs the WOPI routes nothing.
 */
export function registerWeb(
  app: FastifyInstance,
  { host, editor, sessions }: { host: WopiHost; editor: Editor; sessions: SessionOptions },
): void {
  app.register(async (web) => {
    // cookies are parsed when a route asks who is signed in, not on every request
    await web.register(fastifyCookie, { hook: false });
    registerSessionRoutes(web, sessions);
    registerStatic(web);
    registerHostPage(web, { host, editor, sessions });
    registerPages(web, host, sessions);
    registerApi(web, host, sessions);
    const live = new LiveEvents(host.storage.events);
    registerLiveEvents(web, live, sessions);
    web.addHook('onClose', async () => live.stop());
  });
}
