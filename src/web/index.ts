import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { Editor } from '../discovery/editor.ts';
import type { WopiHost } from '../wopi/context.ts';
import { registerApi } from './api/index.ts';
import { registerOpenApi } from './api/openapi.ts';
import { registerEmbed } from './embed-page.ts';
import { registerGuestLinks } from './guest.ts';
import { registerHostPage } from './host-page.ts';
import { LiveEvents, registerLiveEvents } from './live.ts';
import { type OidcOptions, registerOidcRoutes, resolveOidcOptions } from './oidc.ts';
import { registerPages } from './pages.ts';
import { SignInLimiter, type SignInLimits } from './rate-limit.ts';
import { type SessionOptions, sessionCookieName } from './session.ts';
import { type FirstRunSetup, registerSetupRoutes } from './setup.ts';
import { registerSessionRoutes } from './sign-in.ts';
import { registerStatic } from './static.ts';

export { type OidcOptions, resolveOidcOptions } from './oidc.ts';
export { DEFAULT_SIGN_IN_LIMITS, type SignInLimits } from './rate-limit.ts';
export type { Identify, SessionOptions } from './session.ts';
export { FirstRunSetup } from './setup.ts';

/**
 * Quire's web app: sign-in, the document pages, the host page that embeds the editor, and their JSON API. Its
 * routes live in a context of their own, so what they need (cookies) costs the WOPI routes nothing.
 */
export function registerWeb(
  app: FastifyInstance,
  {
    host,
    editor,
    sessions,
    setup,
    signInLimits,
    oidc,
    basePath = '',
    frameAncestors = [],
  }: {
    /** The path the routes are served under ('' at the root of the public URL). */
    basePath?: string;
    host: WopiHost;
    editor: Editor;
    sessions: SessionOptions;
    /** The first-run setup link, when Quire started with no users. */
    setup?: FirstRunSetup | undefined;
    signInLimits?: SignInLimits | undefined;
    /** Single sign-on through an OpenID Connect provider; `redirectUri` is `${publicUrl}/login/oidc/callback`. */
    oidc?: { options: OidcOptions; redirectUri: () => string } | undefined;
    /** Origins that may frame the embedded host page (/embed/…) besides Quire itself: the integrators' apps. */
    frameAncestors?: readonly string[] | undefined;
  },
): void {
  app.register(
    async (web) => {
      // cookies are parsed when a route asks who is signed in, not on every request
      await web.register(fastifyCookie, { hook: false });
      // before any route: the OpenAPI document is generated from the routes' schemas as they are added
      await registerOpenApi(web, {
        basePath,
        cookieName: sessionCookieName(sessions),
        publicUrl: () => host.urls.publicUrl,
      });
      const sso = oidc && { label: resolveOidcOptions(oidc.options).displayName };
      registerSessionRoutes(web, sessions, { limiter: new SignInLimiter(sessions.now, signInLimits), setup, sso });
      if (oidc) {
        registerOidcRoutes(web, {
          sessions,
          oidc: oidc.options,
          redirectUri: oidc.redirectUri,
          groups: host.storage.access,
        });
      }
      registerSetupRoutes(web, sessions, setup);
      registerStatic(web);
      registerHostPage(web, { host, editor, sessions });
      registerGuestLinks(web, { host, editor, sessions });
      registerEmbed(web, { host, editor, sessions, frameAncestors });
      registerPages(web, host, sessions);
      registerApi(web, host, sessions);
      const live = new LiveEvents(host.storage.events);
      registerLiveEvents(web, live, sessions, host.access);
      web.addHook('onClose', async () => live.stop());
    },
    { prefix: basePath },
  );
}
