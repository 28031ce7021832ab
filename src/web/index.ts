import type { FastifyInstance } from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { registerApi } from './api/index.ts';
import { registerHostPage } from './host-page.ts';
import { registerPages } from './pages.ts';
import type { SessionOptions } from './session.ts';
import { registerSessionRoutes } from './sign-in.ts';
import { registerStatic } from './static.ts';

export type { SessionOptions } from './session.ts';

/** Quire's web app: sign-in, the document pages, the host page that embeds the editor, and their JSON API. */
export function registerWeb(
  app: FastifyInstance,
  { host, editor, sessions }: { host: WopiHost; editor: Editor; sessions: SessionOptions },
): void {
  registerSessionRoutes(app, sessions);
  registerStatic(app);
  registerHostPage(app, { host, editor, sessions });
  registerPages(app, host, sessions);
  registerApi(app, host, sessions);
}
