import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessRules } from '../access/policy.ts';
import { EVENT } from '../documents/events.ts';
import type { EventLog, EventRecord, User } from '../storage/types.ts';
import { eventView } from './api/events.ts';
import { EVENTS } from './api/schemas.ts';
import { currentSignIn, currentUser, requireUser, type SessionOptions } from './session.ts';

/** How often the event log is asked for what is new while someone is listening. */
const DEFAULT_POLL_MS = 1000;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 25_000;
/**
 * How long an id the log skipped is waited for. On PostgreSQL a transaction takes its event's id when it writes it,
 * so with several writers (requests, instances) id 10 may commit after id 11 has been read; an id that a rolled-back
 * transaction took never comes, and is given up after this long.
 */
const GAP_WAIT_MS = 10_000;
/** A jump of more ids than this is the sequence moving on (a crash, a cache), not transactions still running. */
const MAX_GAP = 1000;

type Listener = (events: EventRecord[]) => void;

/**
 * Live updates from the event log. One reader per Quire instance follows the log by id (the log is in the database,
 * so changes made through any instance arrive) and hands new events to every open stream; it runs only while
 * someone listens. Ids it skipped are looked for again for a while (GAP_WAIT_MS): an event whose transaction
 * committed after a later one's is still handed out, late.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private cursor: number | undefined;
  /** Ids below the cursor not seen yet, with when they were first missed. */
  private readonly gaps = new Map<number, number>();
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
    const cursor = this.cursor;
    if (this.polling || cursor === undefined) return;
    this.polling = true;
    try {
      const now = Date.now();
      for (const [id, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(id);
      const from = this.gaps.size > 0 ? Math.min(...this.gaps.keys()) - 1 : cursor;
      const listed = await this.events.list({ afterId: from, limit: 1000 });
      const fresh = listed.filter((e) => e.id > cursor || this.gaps.delete(e.id));
      let expected = cursor + 1;
      for (const e of fresh) {
        if (e.id < expected) continue;
        if (e.id - expected <= MAX_GAP) for (let id = expected; id < e.id; id++) this.gaps.set(id, now);
        expected = e.id + 1;
      }
      this.cursor = expected - 1;
      if (fresh.length === 0) return;
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
    this.gaps.clear();
  }
}

const sseFrame = (e: EventRecord) => `id: ${e.id}\nevent: quire\ndata: ${JSON.stringify(eventView(e))}\n\n`;

function lastEventId(request: FastifyRequest): number | undefined {
  const raw = request.headers['last-event-id'] ?? (request.query as { after?: string }).after;
  return typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** How long a stream trusts the list of documents its user may see; shares changed meanwhile count from then on. */
const VISIBLE_RECHECK_MS = 1000;

/** Events that may change who sees what (or who is still signed in): a batch holding one is checked afresh. */
const ACCESS_CHANGES = new Set<string>([
  EVENT.shareAdded,
  EVENT.shareChanged,
  EVENT.shareRemoved,
  EVENT.deleted,
  EVENT.groupDeleted,
  EVENT.groupMemberAdded,
  EVENT.groupMemberRemoved,
  EVENT.userDisabled,
]);

/**
 * Events that take a document out of someone's view. The stream of a user who saw the document until this batch
 * still carries them, so an open page drops the document; nobody hears of a document they never had.
 */
const LEAVING = new Set<string>([EVENT.shareRemoved, EVENT.deleted]);

/** The user behind a stream, read afresh: null once disabled, deleted or signed out (on any instance). */
type SignedIn = () => Promise<User | null>;

function stillSignedIn(sessions: SessionOptions, userId: string, signInId: string | undefined): SignedIn {
  return async () => {
    const user = await sessions.users.findById(userId);
    if (!user || user.disabledAt) return null;
    if (signInId !== undefined && sessions.signIns) {
      const signIn = await sessions.signIns.getSignIn(signInId);
      if (!signIn || signIn.endedAt !== null) return null;
    }
    return user;
  };
}

/**
 * Which events a user's stream carries (null: none, the stream ends, as the user is no longer signed in): an
 * admin's all; anyone else's, the events on documents they may see and their own, as the API's /api/events does;
 * and what tells them that they lost a document they had: its share's removal or its deletion, in the batch where
 * it left their view, a group deleted in that batch, and their being added to or taken out of a group.
 */
async function visibleTo(
  signedIn: SignedIn,
  access: AccessRules,
): Promise<(events: EventRecord[]) => Promise<EventRecord[] | null>> {
  const check = async () => {
    const user = await signedIn();
    if (!user) return null;
    const ids = await access.visibleFileIds(user);
    return { at: Date.now(), user, ids: ids === null ? null : new Set(ids) };
  };
  // what the user sees from the start: a document shared before this stream opened and removed later is one they had
  let known = await check();
  return async (events) => {
    if (!known) return null;
    const before = known;
    if (Date.now() - known.at >= VISIBLE_RECHECK_MS || events.some((e) => ACCESS_CHANGES.has(e.type))) {
      known = await check();
      if (!known) return null;
    }
    const { user, ids } = known;
    if (ids === null) return events;
    const had = before.ids;
    const lost = had === null ? false : [...had].some((id) => !ids.has(id));
    return events.filter((e) => {
      if (e.userId === user.id) return true;
      if (e.fileId !== undefined) {
        if (ids.has(e.fileId)) return true;
        return LEAVING.has(e.type) && (had === null || had.has(e.fileId));
      }
      if (e.type === EVENT.groupMemberAdded || e.type === EVENT.groupMemberRemoved)
        return e.details?.member === user.id;
      return e.type === EVENT.groupDeleted && lost;
    });
  };
}

/**
 * GET /api/events/stream: Server-Sent Events, one per event as the API shows it (`event: quire`, `id` the event's
 * id). A client that reconnects with Last-Event-ID (browsers do) first gets what it missed. When Quire shuts down,
 * the streams are ended first, so a drain does not wait on them: the browsers reconnect (through a load balancer, to
 * another instance) and miss nothing.
 */
export function registerLiveEvents(
  app: FastifyInstance,
  live: LiveEvents,
  sessions: SessionOptions,
  access: AccessRules,
): void {
  const options = { schema: EVENTS.stream, preHandler: requireUser(sessions) };
  const open = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of open) end();
    done();
  });
  app.get('/api/events/stream', options, async (request, reply) => {
    const user = await currentUser(request, sessions);
    if (!user) return;
    const signInId = await currentSignIn(request, sessions);
    const visible = await visibleTo(stillSignedIn(sessions, user.id, signInId), access);
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
    let unsubscribe = () => {};
    let keepAlive: NodeJS.Timeout | undefined;
    const stop = () => {
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(end);
    };
    const end = () => {
      stop();
      res.end();
    };
    open.add(end);
    // batches are filtered one after another, so frames keep their order
    let queue = Promise.resolve();
    const send = (events: EventRecord[]) => {
      queue = queue.then(async () => {
        if (closed) return;
        let shown: EventRecord[] | null;
        try {
          shown = await visible(events);
        } catch {
          // could not tell what this user may see: end the stream; the browser reconnects with Last-Event-ID
          shown = null;
        }
        if (closed) return;
        // (null: signed out, disabled or deleted meanwhile; the browser's reconnection is then turned away)
        if (shown === null) {
          stop();
          res.end();
        } else if (shown.length) res.write(shown.map(sseFrame).join(''));
      });
    };
    request.raw.once('close', stop);
    const unsubscribed = await live.subscribe(send);
    // (the browser may have gone while subscribing)
    if (closed) return unsubscribed();
    unsubscribe = unsubscribed;
    // the first bytes (and so the browser's "open") only once subscribed: nothing after "open" can be missed
    res.write('retry: 3000\n\n');
    const after = lastEventId(request);
    if (after !== undefined) send(await live.since(after));
    if (!closed) keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  });
}
