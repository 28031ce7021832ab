import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../core/errors.ts';
import { restoreRescued } from '../../documents/documents.ts';
import { EVENT } from '../../documents/events.ts';
import { splitExtension } from '../../documents/names.ts';
import { basePath } from '../shell.ts';
import { type ApiContext, actorOf, documentFor, refuseSecureView, signedInUser } from './context.ts';
import { sendDownload } from './download.ts';
import { RESCUED_SAVES } from './schemas.ts';
import { fileView, rescuedView, userNames } from './views.ts';

type RescuedParams = { Params: { id: string; rescued: string } };

function rescuedNumber(raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw badRequest('a rescued save is named by a positive whole number');
  return Number(raw);
}

/** A document's rescued saves (refused saves Quire kept): the list, one's bytes, and making one the newest version. */
export function registerRescued(api: FastifyInstance, ctx: ApiContext): void {
  const { storage, clock } = ctx.host;

  api.get<{ Params: { id: string } }>('/api/files/:id/rescued', { schema: RESCUED_SAVES.list }, async (request) => {
    const { file } = await documentFor(ctx, request, request.params.id, 'viewer');
    const nameOf = userNames(storage);
    return Promise.all(
      (await storage.catalog.listRescued(file.id)).map((r) => rescuedView(r, nameOf, basePath(request))),
    );
  });

  api.get<RescuedParams>(
    '/api/files/:id/rescued/:rescued/content',
    { schema: RESCUED_SAVES.content },
    async (request, reply) => {
      const { file, access } = await documentFor(ctx, request, request.params.id, 'viewer');
      refuseSecureView(access);
      const rescued = await storage.catalog.getRescued(file.id, rescuedNumber(request.params.rescued));
      if (!rescued) throw notFound('no such rescued save');
      const actor = await actorOf(ctx, request);
      await storage.events.append(
        { type: EVENT.downloaded, fileId: file.id, ...actor, details: { rescued: rescued.id } },
        clock.now(),
      );
      const { base, ext } = splitExtension(file.name);
      return sendDownload(reply, storage, {
        blobKey: rescued.blobKey,
        size: rescued.size,
        name: `${base} (rescued ${rescued.id})${ext}`,
      });
    },
  );

  api.post<RescuedParams>(
    '/api/files/:id/rescued/:rescued/restore',
    { schema: RESCUED_SAVES.restore },
    async (request) => {
      const user = await signedInUser(ctx, request);
      await documentFor(ctx, request, request.params.id, 'editor');
      const file = await restoreRescued(storage, clock, {
        fileId: request.params.id,
        rescuedId: rescuedNumber(request.params.rescued),
        userId: user.id,
        actor: await actorOf(ctx, request),
      });
      const { access, ...state } = await documentFor(ctx, request, file.id, 'viewer');
      return fileView(state, userNames(storage), access, basePath(request));
    },
  );
}
