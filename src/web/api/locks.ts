import type { FastifyInstance } from 'fastify';
import { badRequest, conflict, forbidden } from '../../core/errors.ts';
import { EVENT } from '../../documents/events.ts';
import type { EventRecord, FileRecord } from '../../storage/types.ts';
import type { User } from '../../users/accounts.ts';
import { idleReleaseAt } from '../../wopi/idle-locks.ts';
import { type ApiContext, actorOf, signedInUser, stateOf } from './context.ts';
import { readJsonObject } from './json-body.ts';
import { LOCKS } from './schemas.ts';

const MAX_REASON = 500;

/** Who may see and break a document's lock: admins, and the document's owner. */
const mayManage = (user: User, file: FileRecord) => user.isAdmin || file.ownerId === user.id;

/**
 * Open editing sessions: every lock an editor holds, with what the event log knows of it (since when, by whom,
 * through which client, the last save), and breaking one (audited, with a reason). After a break the old editor's
 * next save meets an unlocked file: it is refused, and kept as a rescued save.
 */
export function registerLocks(api: FastifyInstance, ctx: ApiContext): void {
  const { storage, clock } = ctx.host;

  api.get('/api/locks', { schema: LOCKS.list }, async (request) => {
    const user = await signedInUser(ctx, request);
    const states = (await storage.catalog.listStates(clock.now())).filter(
      (s) => s.lock !== null && mayManage(user, s.file),
    );
    return Promise.all(
      states.map(async ({ file, lock }) => {
        const events = await storage.events.list({ fileId: file.id, limit: 200 });
        const taken = events.find(
          (e) => (e.type === EVENT.lockTaken || e.type === EVENT.lockChanged) && e.details?.lock === lock?.value,
        );
        const saved = events.find((e) => e.type === EVENT.saved);
        const who = (e: EventRecord | undefined) => e?.userId && { id: e.userId, name: e.userName ?? e.userId };
        const iso = (ms: number) => new Date(ms).toISOString();
        const since = lock?.takenAt ?? taken?.at;
        const releaseAt = lock ? idleReleaseAt(ctx.host, lock, file) : undefined;
        return {
          fileId: file.id,
          name: file.name,
          lock: lock?.value,
          expiresAt: iso(lock?.expiresAt ?? 0),
          ...(since !== undefined && { since: iso(since) }),
          ...(taken && { by: who(taken), client: taken.client }),
          ...(lock?.refreshedAt !== undefined && { lastRefresh: iso(lock.refreshedAt) }),
          ...(saved && { lastSave: iso(saved.at), editors: saved.details?.editors }),
          ...(releaseAt !== undefined && { idleReleaseAt: iso(releaseAt) }),
        };
      }),
    );
  });

  api.post<{ Params: { id: string } }>('/api/files/:id/lock/break', { schema: LOCKS.break }, async (request) => {
    const user = await signedInUser(ctx, request);
    const body = await readJsonObject(request);
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (!reason || reason.length > MAX_REASON)
      throw badRequest(`"reason" must say why, in 1 to ${MAX_REASON} characters`);
    const { file } = await stateOf(ctx, request.params.id);
    if (!mayManage(user, file)) throw forbidden("only an admin or the document's owner may break its lock");
    const actor = await actorOf(ctx, request);
    let broken: string | undefined;
    await storage.locks.update(
      file.id,
      clock.now(),
      (current) => {
        if (!current) throw conflict('the document is not locked');
        broken = current.value;
        return null;
      },
      () => ({ type: EVENT.lockBroken, fileId: file.id, ...actor, details: { lock: broken, reason } }),
    );
    return { fileId: file.id, broken, reason };
  });
}
