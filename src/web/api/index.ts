import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiKeys } from '../../access/api-keys.ts';
import { Sharing } from '../../access/sharing.ts';
import { forbidden } from '../../core/errors.ts';
import type { WopiHost } from '../../wopi/context.ts';
import { requireUser, type SessionOptions } from '../session.ts';
import { registerAdmin } from './admin.ts';
import { registerApiKeys } from './api-keys.ts';
import type { ApiContext } from './context.ts';
import { registerEvents } from './events.ts';
import { registerFiles } from './files.ts';
import { registerLocks } from './locks.ts';
import { registerMe } from './me.ts';
import { registerRescued } from './rescued.ts';
import { acceptApiKeys, apiKeyOf } from './service.ts';
import { registerSharing } from './sharing.ts';
import { registerTemplates } from './templates.ts';
import { registerTokens } from './tokens.ts';
import { compileRequestSchema, schemaErrorOf } from './validation.ts';
import { registerVersions } from './versions.ts';
import { registerWebhooks } from './webhooks.ts';

/**
 * The JSON API behind Quire's web page (the page uses nothing else): list, upload, create from a template,
 * rename, delete, download, version history, restore, the audit trail. Documented in the README. Refusals are thrown as
 * QuireErrors and answered by the app's one error mapper.
 */
export function registerApi(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  const apiKeys = host.storage.apiKeys && new ApiKeys(host.storage.apiKeys, host.clock);
  const ctx: ApiContext = { host, sessions, apiKeys };
  // Read per request: the public URL is only known once the server listens, after registration.

  // State changes only from Quire's own pages (or non-browser clients): a cross-site form cannot reach them. A request
  // with an API key carries no cookie a browser would add by itself, so it is no forgery whatever its origin.
  const refuseCrossSite = async (request: FastifyRequest) => {
    if (request.method === 'GET' || request.method === 'HEAD' || apiKeyOf(request)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== host.urls.origin) throw forbidden('cross-site request refused');
    if (request.headers['sec-fetch-site'] === 'cross-site') throw forbidden('cross-site request refused');
  };

  app.register(async (api) => {
    // Each route's schema (schemas.ts) checks its path and query before the handler, its JSON body when the handler
    // reads it; refusals are 400s naming the field. Answers are described there, not reshaped: sent as the handler
    // made them.
    api.setValidatorCompiler(compileRequestSchema);
    api.setSchemaErrorFormatter(schemaErrorOf);
    api.setSerializerCompiler(() => (data) => JSON.stringify(data));
    // Who is asking is settled before what they sent is judged (preValidation runs before the schema check).
    // another app's service API key, when the request carries one: 401 for a key that does not work, 403 without scope
    api.addHook('preValidation', acceptApiKeys(apiKeys, sessions));
    // an API answers 401 JSON, whatever the client says it accepts (browsers' fetch asks for */* or HTML too)
    api.addHook('preValidation', requireUser(sessions, { answer: 'json' }));
    api.addHook('preValidation', refuseCrossSite);
    registerMe(api, ctx);
    registerTemplates(api);
    registerFiles(api, ctx);
    registerVersions(api, ctx);
    registerEvents(api, ctx);
    registerRescued(api, ctx);
    registerLocks(api, ctx);
    const sharing = new Sharing(host.storage, host.clock);
    registerSharing(api, ctx, sharing);
    registerAdmin(api, ctx, sharing);
    registerApiKeys(api, ctx);
    registerTokens(api, ctx);
    registerWebhooks(api, ctx);
  });
}
