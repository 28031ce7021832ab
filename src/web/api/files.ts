import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../../core/errors.ts';
import { limitBytes } from '../../core/streams.ts';
import { deleteDocument, importFile, renameDocument } from '../../documents/documents.ts';
import { EVENT } from '../../documents/events.ts';
import { illegalNameReason } from '../../documents/names.ts';
import { isTemplateKind, openTemplate, TEMPLATES, templateFor } from '../../documents/templates.ts';
import { basePath } from '../shell.ts';
import { type ApiContext, actorOf, documentFor, refuseSecureView, signedInUser } from './context.ts';
import { sendDownload } from './download.ts';
import { readJsonObject, stringField } from './json-body.ts';
import { FILES } from './schemas.ts';
import { fileView, sharingSummaries, userNames } from './views.ts';

type IdParams = { Params: { id: string } };

/** Documents: list, upload, new from a template, one document, rename, delete, download. */
export function registerFiles(api: FastifyInstance, ctx: ApiContext): void {
  const { storage, clock } = ctx.host;

  const view = async (request: FastifyRequest, fileId: string) => {
    const { access, ...state } = await documentFor(ctx, request, fileId, 'viewer');
    return fileView(state, userNames(storage), access, basePath(request));
  };
  const created = async (request: FastifyRequest, reply: FastifyReply, fileId: string) =>
    reply.code(201).send(await view(request, fileId));

  /** The ids of the documents shared with a user or one of their groups. */
  const sharedWith = async (userId: string): Promise<Set<string>> => {
    const groups = (await storage.access?.groupsOf(userId)) ?? [];
    const principals = [
      { kind: 'user' as const, id: userId },
      ...groups.map((g) => ({ kind: 'group' as const, id: g.id })),
    ];
    return new Set(((await storage.access?.sharesTo(principals)) ?? []).map((s) => s.fileId));
  };

  /** The documents the user may see: `?scope=mine` (owned), `shared` (shared with them), or both (the default). */
  api.get<{ Querystring: { scope?: string } }>('/api/files', { schema: FILES.list }, async (request) => {
    const user = await signedInUser(ctx, request);
    const scope = request.query.scope ?? 'all';
    if (!['all', 'mine', 'shared'].includes(scope)) throw badRequest('scope must be all, mine or shared');
    const nameOf = userNames(storage);
    const now = clock.now();
    const states = await storage.catalog.listStates(now);
    // what is shared of the documents the caller manages (their own; an admin's, all): one read for the list
    const summaries =
      scope === 'shared' ? new Map() : await sharingSummaries(storage, user.isAdmin ? null : user.id, now);
    // an admin may see everything, but "shared with me" is what was shared with them (or their groups)
    const sharedWithAdmin = scope === 'shared' && user.isAdmin ? await sharedWith(user.id) : null;
    const views = await Promise.all(
      states.map(async (s) => {
        const mine = s.file.ownerId === user.id;
        if (scope === 'mine' && !mine) return null;
        if (scope === 'shared' && mine) return null;
        const access = await ctx.host.access.accessTo({ kind: 'user', user }, s.file);
        if (!access) return null;
        if (scope === 'shared' && access.via !== 'share' && access.via !== 'group' && !sharedWithAdmin?.has(s.file.id))
          return null;
        const view = await fileView(s, nameOf, access, basePath(request));
        if (access.role !== 'owner') return view;
        return { ...view, sharing: summaries.get(s.file.id) ?? { shares: [], links: 0 } };
      }),
    );
    return views.filter((v) => v !== null);
  });

  /** Upload: the raw body is the file; ?name= gives its name. */
  api.post<{ Querystring: { name?: string } }>('/api/files', { schema: FILES.upload }, async (request, reply) => {
    const user = await signedInUser(ctx, request);
    const name = request.query.name;
    if (!name) throw badRequest('give the file name as ?name=');
    const max = ctx.host.config.maxUploadBytes;
    const file = await importFile(storage, clock, {
      source: limitBytes(request.raw, { max, declared: Number(request.headers['content-length'] ?? 0) }),
      name,
      ownerId: user.id,
      actor: await actorOf(ctx, request),
      how: 'upload',
    });
    return created(request, reply, file.id);
  });

  /** A new, empty document from one of Quire's templates: {"kind": "document"|"spreadsheet"|"presentation", "name"?} */
  api.post('/api/files/new', { schema: FILES.create }, async (request, reply) => {
    const user = await signedInUser(ctx, request);
    const body = await readJsonObject(request);
    if (!isTemplateKind(body.kind)) {
      throw badRequest(`"kind" must be one of ${TEMPLATES.map((t) => t.kind).join(', ')}`);
    }
    const template = templateFor(body.kind);
    const base =
      typeof body.name === 'string' && body.name.trim() ? body.name.trim() : `New ${template.label.toLowerCase()}`;
    const baseReason = illegalNameReason(base);
    if (baseReason) throw badRequest(`invalid name: ${baseReason}`);
    const name = base.toLowerCase().endsWith(template.ext) ? base : base + template.ext;
    const file = await importFile(storage, clock, {
      source: openTemplate(template.kind),
      name,
      ownerId: user.id,
      actor: await actorOf(ctx, request),
      how: 'template',
    });
    return created(request, reply, file.id);
  });

  api.get<IdParams>('/api/files/:id', { schema: FILES.get }, async (request) => view(request, request.params.id));

  api.post<IdParams>('/api/files/:id/rename', { schema: FILES.rename }, async (request) => {
    const body = await readJsonObject(request);
    const name = stringField(body, 'name');
    await documentFor(ctx, request, request.params.id, 'editor');
    const file = await renameDocument(storage, clock, request.params.id, name, await actorOf(ctx, request));
    return view(request, file.id);
  });

  api.delete<IdParams>('/api/files/:id', { schema: FILES.delete }, async (request, reply) => {
    await documentFor(ctx, request, request.params.id, 'owner');
    await deleteDocument(storage, clock, request.params.id, await actorOf(ctx, request));
    return reply.code(204).send();
  });

  api.get<IdParams>('/api/files/:id/content', { schema: FILES.content }, async (request, reply) => {
    const { file, access } = await documentFor(ctx, request, request.params.id, 'viewer');
    refuseSecureView(access);
    const actor = await actorOf(ctx, request);
    await storage.events.append(
      { type: EVENT.downloaded, fileId: file.id, ...actor, details: { version: file.version } },
      clock.now(),
    );
    return sendDownload(reply, storage, file);
  });
}
