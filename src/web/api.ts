import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuireError as ClientError } from '../core/errors.ts';
import { deleteDocument, importFile, renameDocument, restoreVersion } from '../documents/documents.ts';
import type { FileState, VersionRecord } from '../storage/types.ts';
import { TooLargeError } from '../core/errors.ts';
import { limitBytes } from '../core/streams.ts';
import { isTemplateKind, openTemplate, TEMPLATES, templateFor } from '../documents/templates.ts';
import type { User } from '../users/store.ts';
import type { WopiHost } from '../wopi/context.ts';
import { illegalNameReason, NameError, splitExtension } from '../documents/names.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';
import { discardUnreadBody } from '../http/unread-body.ts';

/**
 * The JSON API behind Quire's web page (the page uses nothing else): list, upload, create from a template,
 * rename, delete, download, version history, restore. Documented in the README.
 */

type IdParams = { Params: { id: string } };
type VersionParams = { Params: { id: string; version: string } };

const MAX_JSON_BYTES = 64 * 1024;

async function readJson(request: FastifyRequest): Promise<Record<string, unknown>> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ClientError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new ClientError(413, 'request body too large');
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {}
  throw new ClientError(400, 'body must be a JSON object');
}

const stringField = (body: Record<string, unknown>, key: string): string => {
  const v = body[key];
  if (typeof v !== 'string' || v.trim() === '') throw new ClientError(400, `"${key}" must be a non-empty string`);
  return v;
};

/** RFC 6266: an ASCII fallback plus the exact UTF-8 name. */
function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 8187 allows none of ' ( ) * bare; encodeURIComponent leaves them
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

export function registerApi(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  const { storage, clock } = host;
  const signedIn = requireUser(sessions);
  const publicOrigin = () => new URL(host.urls.publicUrl).origin;

  /** Names for user ids, looked up once per response. */
  function userNames() {
    const cache = new Map<string, Promise<string>>();
    return (id: string) => {
      let name = cache.get(id);
      if (!name) {
        name = (storage.users?.findById(id) ?? Promise.resolve(null)).then((u) => u?.displayName ?? id);
        cache.set(id, name);
      }
      return name;
    };
  }

  async function fileView({ file, lock }: FileState, nameOf: (id: string) => Promise<string>) {
    const id = encodeURIComponent(file.id);
    return {
      id: file.id,
      name: file.name,
      size: file.size,
      version: file.version,
      modifiedAt: new Date(file.modifiedAt).toISOString(),
      modifiedBy: { id: file.modifiedBy, name: await nameOf(file.modifiedBy) },
      ownerId: file.ownerId,
      locked: lock !== null,
      ...(lock && { lockExpiresAt: new Date(lock.expiresAt).toISOString() }),
      urls: {
        edit: `/files/${id}/open?action=edit`,
        view: `/files/${id}/open?action=view`,
        download: `/api/files/${id}/content`,
        history: `/files/${id}`,
      },
    };
  }

  async function versionView(v: VersionRecord, current: number, nameOf: (id: string) => Promise<string>) {
    return {
      version: v.version,
      current: v.version === current,
      size: v.size,
      sha256: v.sha256,
      createdAt: new Date(v.createdAt).toISOString(),
      author: { id: v.authorId, name: await nameOf(v.authorId) },
      source: v.source,
      ...(v.modifiedByUser !== undefined && { modifiedByUser: v.modifiedByUser }),
      ...(v.autosave !== undefined && { autosave: v.autosave }),
      ...(v.exitSave !== undefined && { exitSave: v.exitSave }),
      ...(v.fileConversion !== undefined && { fileConversion: v.fileConversion }),
      download: `/api/files/${encodeURIComponent(v.fileId)}/versions/${v.version}/content`,
    };
  }

  async function stateOf(id: string): Promise<FileState> {
    const state = await storage.catalog.getState(id, clock.now());
    if (!state) throw new ClientError(404, 'no such document');
    return state;
  }

  async function me(request: FastifyRequest): Promise<User> {
    const user = await currentUser(request, sessions);
    if (!user) throw new ClientError(401, 'sign in required');
    return user;
  }

  async function created(reply: FastifyReply, fileId: string) {
    return reply.code(201).send(await fileView(await stateOf(fileId), userNames()));
  }

  app.register(async (api) => {
    api.addHook('preHandler', signedIn);
    // State changes only from Quire's own pages (or non-browser clients): a cross-site form cannot reach them.
    api.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== publicOrigin()) throw new ClientError(403, 'cross-site request refused');
      if (request.headers['sec-fetch-site'] === 'cross-site') throw new ClientError(403, 'cross-site request refused');
    });
    api.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
      discardUnreadBody(request, reply);
      let status = 500;
      let message = 'internal server error';
      if (err instanceof ClientError) [status, message] = [err.status, err.message];
      else if (err instanceof NameError) [status, message] = [400, `invalid name: ${err.message}`];
      else if (err instanceof TooLargeError) [status, message] = [413, err.message];
      else if (typeof err.statusCode === 'number' && err.statusCode < 500)
        [status, message] = [err.statusCode, err.message];
      else request.log.error({ err }, 'api request failed');
      return reply
        .code(status)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: message }));
    });

    api.get('/api/me', async (request) => {
      const user = await me(request);
      return { id: user.id, name: user.name, displayName: user.displayName, isAdmin: user.isAdmin };
    });

    api.get('/api/templates', async () => TEMPLATES.map(({ kind, label, ext }) => ({ kind, label, ext })));

    api.get('/api/files', async () => {
      const nameOf = userNames();
      const states = await storage.catalog.listStates(clock.now());
      return Promise.all(states.map((s) => fileView(s, nameOf)));
    });

    /** Upload: the raw body is the file; ?name= gives its name. */
    api.post<{ Querystring: { name?: string } }>('/api/files', async (request, reply) => {
      const user = await me(request);
      const name = request.query.name;
      if (!name) throw new ClientError(400, 'give the file name as ?name=');
      const max = host.config.maxUploadBytes;
      const file = await importFile(storage, clock, {
        source: limitBytes(request.raw, { max, declared: Number(request.headers['content-length'] ?? 0) }),
        name,
        ownerId: user.id,
      });
      return created(reply, file.id);
    });

    /** A new, empty document from one of Quire's templates: {"kind": "document"|"spreadsheet"|"presentation", "name"?} */
    api.post('/api/files/new', async (request, reply) => {
      const user = await me(request);
      const body = await readJson(request);
      if (!isTemplateKind(body.kind)) {
        throw new ClientError(400, `"kind" must be one of ${TEMPLATES.map((t) => t.kind).join(', ')}`);
      }
      const template = templateFor(body.kind);
      const base =
        typeof body.name === 'string' && body.name.trim() ? body.name.trim() : `New ${template.label.toLowerCase()}`;
      const baseReason = illegalNameReason(base);
      if (baseReason) throw new ClientError(400, `invalid name: ${baseReason}`);
      const name = base.toLowerCase().endsWith(template.ext) ? base : base + template.ext;
      const file = await importFile(storage, clock, {
        source: openTemplate(template.kind),
        name,
        ownerId: user.id,
      });
      return created(reply, file.id);
    });

    api.get<IdParams>('/api/files/:id', async (request) => fileView(await stateOf(request.params.id), userNames()));

    api.post<IdParams>('/api/files/:id/rename', async (request) => {
      const body = await readJson(request);
      const file = await renameDocument(storage, clock, request.params.id, stringField(body, 'name'));
      return fileView(await stateOf(file.id), userNames());
    });

    api.delete<IdParams>('/api/files/:id', async (request, reply) => {
      await deleteDocument(storage, clock, request.params.id);
      return reply.code(204).send();
    });

    api.get<IdParams>('/api/files/:id/content', async (request, reply) => {
      const { file } = await stateOf(request.params.id);
      return reply
        .headers({
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(file.size),
          'Content-Disposition': attachment(file.name),
          'Cache-Control': 'no-store',
        })
        .send(storage.blobs.read(file.blobKey));
    });

    api.get<IdParams>('/api/files/:id/versions', async (request) => {
      const { file } = await stateOf(request.params.id);
      const nameOf = userNames();
      const versions = await storage.catalog.listVersions(file.id);
      return Promise.all(versions.map((v) => versionView(v, file.version, nameOf)));
    });

    function versionNumber(raw: string): number {
      if (!/^[1-9]\d{0,9}$/.test(raw)) throw new ClientError(400, 'version must be a positive whole number');
      return Number(raw);
    }

    api.get<VersionParams>('/api/files/:id/versions/:version/content', async (request, reply) => {
      const { file } = await stateOf(request.params.id);
      const v = await storage.catalog.getVersion(file.id, versionNumber(request.params.version));
      if (!v) throw new ClientError(404, 'no such version');
      const { base, ext } = splitExtension(file.name);
      return reply
        .headers({
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(v.size),
          'Content-Disposition': attachment(`${base} (version ${v.version})${ext}`),
          'Cache-Control': 'no-store',
        })
        .send(storage.blobs.read(v.blobKey));
    });

    api.post<VersionParams>('/api/files/:id/versions/:version/restore', async (request) => {
      const user = await me(request);
      const file = await restoreVersion(storage, clock, {
        fileId: request.params.id,
        version: versionNumber(request.params.version),
        userId: user.id,
      });
      return fileView(await stateOf(file.id), userNames());
    });
  });
}
