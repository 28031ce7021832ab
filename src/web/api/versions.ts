import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../core/errors.ts';
import { restoreVersion } from '../../documents/documents.ts';
import { EVENT } from '../../documents/events.ts';
import { splitExtension } from '../../documents/names.ts';
import { basePath } from '../shell.ts';
import { type ApiContext, actorOf, documentFor, refuseSecureView, signedInUser } from './context.ts';
import { sendDownload } from './download.ts';
import { VERSIONS } from './schemas.ts';
import { fileView, userNames, versionView } from './views.ts';

type VersionParams = { Params: { id: string; version: string } };

function versionNumber(raw: string): number {
  if (!/^[1-9]\d{0,9}$/.test(raw)) throw badRequest('version must be a positive whole number');
  return Number(raw);
}

/** A document's versions: the history, one version's bytes, and restoring one. */
export function registerVersions(api: FastifyInstance, ctx: ApiContext): void {
  const { storage, clock } = ctx.host;

  api.get<{ Params: { id: string } }>('/api/files/:id/versions', { schema: VERSIONS.list }, async (request) => {
    const { file } = await documentFor(ctx, request, request.params.id, 'viewer');
    const nameOf = userNames(storage);
    const versions = await storage.catalog.listVersions(file.id);
    return Promise.all(versions.map((v) => versionView(v, file.version, nameOf, basePath(request))));
  });

  api.get<VersionParams>(
    '/api/files/:id/versions/:version/content',
    { schema: VERSIONS.content },
    async (request, reply) => {
      const { file, access } = await documentFor(ctx, request, request.params.id, 'viewer');
      refuseSecureView(access);
      const v = await storage.catalog.getVersion(file.id, versionNumber(request.params.version));
      if (!v) throw notFound('no such version');
      const { base, ext } = splitExtension(file.name);
      const actor = await actorOf(ctx, request);
      await storage.events.append(
        { type: EVENT.downloaded, fileId: file.id, ...actor, details: { version: v.version } },
        clock.now(),
      );
      return sendDownload(reply, storage, {
        blobKey: v.blobKey,
        size: v.size,
        name: `${base} (version ${v.version})${ext}`,
      });
    },
  );

  api.post<VersionParams>('/api/files/:id/versions/:version/restore', { schema: VERSIONS.restore }, async (request) => {
    const user = await signedInUser(ctx, request);
    await documentFor(ctx, request, request.params.id, 'editor');
    const file = await restoreVersion(storage, clock, {
      fileId: request.params.id,
      version: versionNumber(request.params.version),
      userId: user.id,
      actor: await actorOf(ctx, request),
    });
    const { access, ...state } = await documentFor(ctx, request, file.id, 'viewer');
    return fileView(state, userNames(storage), access, basePath(request));
  });
}
