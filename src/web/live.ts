import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../access/policy.ts';
import type { EventLog, EventRecord, User } from '../storage/types.ts';
import { eventView } from './api/events.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';

/** How often the event log is asked for what is new while someone is listening. */
const DEFAULT_POLL_MS = 1000;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 25_000;

type Listener = (events: EventRecord[]) => void;

/**
 * Live updates from the event log. One reader per Quire instance follows the log by id (the log is in the database,
 * so changes made through any instance arrive) and hands new events to every open stream; it runs only while
 * someone listens.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private cursor: number | undefined;
  private polling = false;

  constructor(
    private readonly events: EventLog,
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {}

  /** The newest event's id: where a new listener starts. */
  async latestId(): Promise<number> {
    const [newest] = await this.events.list({ limit: 1 });
    return newest?.id ?? 0;
  }

  /**
   * Events after `afterId` (a reconnecting listener's Last-Event-ID) up to where the reader stands, oldest first:
   * what the reader hands out from then on does not come twice.
   */
  async since(afterId: number): Promise<EventRecord[]> {
    const upTo = this.cursor ?? (await this.latestId());
    return (await this.events.list({ afterId, limit: 1000 })).filter((e) => e.id <= upTo);
  }

  async subscribe(listener: Listener): Promise<() => void> {
    this.listeners.add(listener);
    if (this.cursor === undefined) this.cursor = await this.latestId();
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private async poll(): Promise<void> {
    if (this.polling || this.cursor === undefined) return;
    this.polling = true;
    try {
      const fresh = await this.events.list({ afterId: this.cursor, limit: 1000 });
      const last = fresh.at(-1);
      if (!last) return;
      this.cursor = last.id;
      for (const listener of this.listeners) listener(fresh);
    } catch {
      // the database may be briefly unreachable; the next poll tries again from the same cursor
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.cursor = undefined;
  }
}

const sseFrame = (e: EventRecord) => `id: ${e.id}\nevent: quire\ndata: ${JSON.stringify(eventView(e))}\n\n`;

function lastEventId(request: FastifyRequest): number | undefined {
  const raw = request.headers['last-event-id'] ?? (request.query as { after?: string }).after;
  return typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** How long a stream trusts the list of documents its user may see; shares changed meanwhile count from then on. */
const VISIBLE_RECHECK_MS = 1000;

/**
 * Which events a user's stream carries: an admin's all; anyone else's, the events on documents they may see and
 * their own, as the API's /api/events does.
 */
function visibleTo(user: User, access: AccessPolicy): (events: EventRecord[]) => Promise<EventRecord[]> {
  let known: { at: number; ids: Promise<Set<string> | null> } | undefined;
  return async (events) => {
    if (!known || Date.now() - known.at >= VISIBLE_RECHECK_MS) {
      known = { at: Date.now(), ids: access.visibleFileIds(user).then((ids) => (ids ? new Set(ids) : null)) };
    }
    const ids = await known.ids;
    return ids === null
      ? events
      : events.filter((e) => e.userId === user.id || (e.fileId !== undefined && ids.has(e.fileId)));
  };
}

/**
 * GET /api/events/stream: Server-Sent Events, one per event as the API shows it (`event: quire`, `id` the event's
 * id). A client that reconnects with Last-Event-ID (browsers do) first gets what it missed.
 */
export function registerLiveEvents(
  app: FastifyInstance,
  live: LiveEvents,
  sessions: SessionOptions,
  access: AccessPolicy,
): void {
  app.get('/api/events/stream', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    if (!user) return;
    const visible = visibleTo(user, access);
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
      // nginx and the like: do not hold the stream back
      'X-Accel-Buffering': 'no',
    });
    let closed = false;
    // batches are filtered one after another, so frames keep their order
    let queue = Promise.resolve();
    const send = (events: EventRecord[]) => {
      queue = queue.then(async () => {
        if (closed) return;
        let shown: EventRecord[];
        try {
          shown = await visible(events);
        } catch {
          // could not tell what this user may see: end the stream; the browser reconnects with Last-Event-ID
          res.end();
          return;
        }
        if (!closed && shown.length) res.write(shown.map(sseFrame).join(''));
      });
    };
    const unsubscribe = await live.subscribe(send);
    // the first bytes (and so the browser's "open") only once subscribed: nothing after "open" can be missed
    res.write('retry: 3000\n\n');
    const after = lastEventId(request);
    if (after !== undefined) send(await live.since(after));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    request.raw.once('close', () => {
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
}
