import type { FastifyInstance, FastifyReply } from 'fastify';
import { badRequest } from '../../core/errors.ts';
import { limitBytes } from '../../core/streams.ts';
import { deleteDocument, importFile, renameDocument } from '../../documents/documents.ts';
import { EVENT } from '../../documents/events.ts';
import { illegalNameReason } from '../../documents/names.ts';
import { isTemplateKind, openTemplate, TEMPLATES, templateFor } from '../../documents/templates.ts';
import { type ApiContext, actorOf, signedInUser, stateOf } from './context.ts';
import { sendDownload } from './download.ts';
import { readJsonObject, stringField } from './json-body.ts';
import { fileView, userNames } from './views.ts';

type IdParams = { Params: { id: string } };

/** Documents: list, upload, new from a template, one document, rename, delete, download. */
export function registerFiles(api: FastifyInstance, ctx: ApiContext): void {
  const { storage, clock } = ctx.host;

  const view = async (fileId: string) => fileView(await stateOf(ctx, fileId), userNames(storage));
  const created = async (reply: FastifyReply, fileId: string) => reply.code(201).send(await view(fileId));

  api.get('/api/files', async () => {
    const nameOf = userNames(storage);
    const states = await storage.catalog.listStates(clock.now());
    return Promise.all(states.map((s) => fileView(s, nameOf)));
  });

  /** Upload: the raw body is the file; ?name= gives its name. */
  api.post<{ Querystring: { name?: string } }>('/api/files', async (request, reply) => {
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
    return created(reply, file.id);
  });

  /** A new, empty document from one of Quire's templates: {"kind": "document"|"spreadsheet"|"presentation", "name"?} */
  api.post('/api/files/new', async (request, reply) => {
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
    return created(reply, file.id);
  });

  api.get<IdParams>('/api/files/:id', async (request) => view(request.params.id));

  api.post<IdParams>('/api/files/:id/rename', async (request) => {
    const body = await readJsonObject(request);
    const name = stringField(body, 'name');
    const file = await renameDocument(storage, clock, request.params.id, name, await actorOf(ctx, request));
    return view(file.id);
  });

  api.delete<IdParams>('/api/files/:id', async (request, reply) => {
    await deleteDocument(storage, clock, request.params.id, await actorOf(ctx, request));
    return reply.code(204).send();
  });

  api.get<IdParams>('/api/files/:id/content', async (request, reply) => {
    const { file } = await stateOf(ctx, request.params.id);
    const actor = await actorOf(ctx, request);
    await storage.events.append(
      { type: EVENT.downloaded, fileId: file.id, ...actor, details: { version: file.version } },
      clock.now(),
    );
    return sendDownload(reply, storage, file);
  });
}
