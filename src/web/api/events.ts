import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../core/errors.ts';
import type { EventQuery, EventRecord } from '../../storage/types.ts';
import { type ApiContext, documentFor, signedInUser } from './context.ts';
import { EVENTS } from './schemas.ts';

type Query = { file?: string; user?: string; before?: string; after?: string; limit?: string };

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function cursor(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`${what} must be an event id (a whole number)`);
  return Number(raw);
}

function queryOf(q: Query, fileId?: string): EventQuery {
  const limit = cursor(q.limit, 'limit') ?? DEFAULT_LIMIT;
  if (limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be 1 to ${MAX_LIMIT}`);
  const before = cursor(q.before, 'before');
  const after = cursor(q.after, 'after');
  const file = fileId ?? (q.file || undefined);
  return {
    limit,
    ...(file !== undefined && { fileId: file }),
    ...(q.user && { userId: q.user }),
    ...(before !== undefined && { beforeId: before }),
    ...(after !== undefined && { afterId: after }),
  };
}

/** An event as the API shows it. */
export function eventView(e: EventRecord) {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    type: e.type,
    ...(e.fileId !== undefined && { fileId: e.fileId }),
    ...(e.userId !== undefined && { user: { id: e.userId, name: e.userName ?? e.userId } }),
    ...(e.address !== undefined && { address: e.address }),
    ...(e.client !== undefined && { client: e.client }),
    ...(e.correlationId !== undefined && { correlationId: e.correlationId }),
    ...(e.sessionId !== undefined && { sessionId: e.sessionId }),
    ...(e.details !== undefined && { details: e.details }),
  };
}

/**
 * The audit trail: every event, newest first (or oldest first after a cursor), by document and by user, as JSON or
 * as JSON lines for export.
 */
export function registerEvents(api: FastifyInstance, ctx: ApiContext): void {
  const { storage } = ctx.host;

  /** What the user may read: every event for an admin; otherwise events on documents they can see, and their own. */
  const visible = async (request: FastifyRequest, query: EventQuery): Promise<EventQuery> => {
    const user = await signedInUser(ctx, request);
    const fileIds = await ctx.host.access.visibleFileIds(user);
    return fileIds === null ? query : { ...query, visibleTo: { fileIds, userId: user.id } };
  };

  api.get<{ Querystring: Query }>('/api/events', { schema: EVENTS.list }, async (request) =>
    (await storage.events.list(await visible(request, queryOf(request.query)))).map(eventView),
  );

  api.get<{ Querystring: Query }>('/api/events.jsonl', { schema: EVENTS.export }, async (request, reply) => {
    const events = await storage.events.list(await visible(request, queryOf(request.query)));
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header('Content-Disposition', 'attachment; filename="quire-events.jsonl"')
      .send(events.map((e) => `${JSON.stringify(eventView(e))}\n`).join(''));
  });

  api.get<{ Params: { id: string }; Querystring: Query }>(
    '/api/files/:id/events',
    { schema: EVENTS.ofFile },
    async (request) => {
      // a deleted document's events stay readable by ?file=; this route is for documents that exist
      const { file } = await documentFor(ctx, request, request.params.id, 'viewer');
      return (await storage.events.list(queryOf(request.query, file.id))).map(eventView);
    },
  );
}
