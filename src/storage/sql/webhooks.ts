import { randomUUID } from 'node:crypto';
import type {
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryState,
  Describe,
  EventRecord,
  NewEvent,
  Webhook,
  WebhookAudit,
  WebhookDelivery,
  WebhookRecord,
  WebhookStore,
} from '../types.ts';
import { type SqlDatabase, type SqlExecutor, storable } from './database.ts';

type Int8 = number | string;

interface WebhookRow {
  id: string;
  url: string;
  events: string | null;
  kinds: string;
  description: string;
  secret: string;
  created_at: Int8;
  created_by: string;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: Int8 | null;
  kind: string;
  created_at: Int8;
  queued_at: Int8;
  state: string;
  attempts: number | string;
  next_attempt_at: Int8 | null;
  last_attempt_at: Int8 | null;
  last_status: number | string | null;
  last_error: string | null;
  finished_at: Int8 | null;
}

interface ClaimedRow extends DeliveryRow {
  url: string;
  secret: string;
  e_id: Int8 | null;
  e_at: Int8 | null;
  e_type: string | null;
  e_file_id: string | null;
  e_user_id: string | null;
  e_user_name: string | null;
  e_details: string | null;
}

/** The kind a ping's delivery carries: no event of the log has it. */
export const PING_KIND = 'webhook.ping';

/** The longest receiver error text kept (a status line and the start of its body). */
const MAX_ERROR = 500;

const num = (v: Int8 | null) => (v === null ? null : Number(v));
/** ',a,b,': a kind matches with LIKE '%,kind,%', the same on both backends. */
const kindList = (kinds: string[]) => `,${kinds.join(',')},`;
/** LIKE's own wildcards taken literally (kinds hold none today; a later one might). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function toWebhook(r: WebhookRow): WebhookRecord {
  return {
    id: r.id,
    url: r.url,
    events: r.events === null ? null : (JSON.parse(r.events) as string[]),
    description: r.description,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    secret: r.secret,
    kinds: r.kinds.split(',').filter((k) => k !== ''),
  };
}

const publicView = ({ secret: _s, kinds: _k, ...hook }: WebhookRecord): Webhook => hook;

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: num(r.event_id),
    kind: r.kind,
    createdAt: Number(r.created_at),
    queuedAt: Number(r.queued_at),
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    lastAttemptAt: num(r.last_attempt_at),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
    finishedAt: num(r.finished_at),
  };
}

function toClaimed(r: ClaimedRow): ClaimedDelivery {
  const event: EventRecord | null =
    r.e_id === null
      ? null
      : {
          id: Number(r.e_id),
          at: Number(r.e_at),
          type: r.e_type as string,
          ...(r.e_file_id !== null && { fileId: r.e_file_id }),
          ...(r.e_user_id !== null && { userId: r.e_user_id }),
          ...(r.e_user_name !== null && { userName: r.e_user_name }),
          ...(r.e_details !== null && { details: JSON.parse(r.e_details) as Record<string, unknown> }),
        };
  return { ...toDelivery(r), url: r.url, secret: r.secret, event };
}

/**
 * Webhooks and their outbox, written once for both backends. The outbox is a table of deliveries: `enqueueEvent`
 * adds one per matching webhook inside the transaction that writes the event, so a change, its event and its
 * deliveries commit together or not at all. The worker never follows event ids with a cursor (a sequence's ids
 * commit out of order on PostgreSQL, and a cursor would skip one forever): it claims due rows, with FOR UPDATE SKIP
 * LOCKED where several instances share the database (SQLite has one writer, and one process).
 */
export class SqlWebhookStore implements WebhookStore {
  private readonly sql;

  /**
   * @param audit writes an audit event with the executor given (the event log's insert, so the event gets its own
   *   deliveries too), inside a webhook change's transaction
   */
  constructor(
    private readonly db: SqlDatabase,
    private readonly audit: (tx: SqlExecutor, event: NewEvent, at: number) => Promise<unknown>,
  ) {
    const d = db.dialect;
    const [hooks, deliveries, events] = ['webhooks', 'webhook_deliveries', 'events'].map((n) => d.table(n));
    const columns = `id, webhook_id, event_id, kind, created_at, queued_at, state, attempts, next_attempt_at,
                     last_attempt_at, last_status, last_error, finished_at`;
    // PostgreSQL: row locks, skipping rows another instance is claiming; SQLite: its writer lock serializes claims
    const skipLocked = d.forUpdate ? `${d.forUpdate} SKIP LOCKED` : '';
    this.sql = {
      insertHook: `INSERT INTO ${hooks} (id, url, events, kinds, description, secret, created_at, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      hook: `SELECT * FROM ${hooks} WHERE id = $1`,
      hooks: `SELECT * FROM ${hooks} ORDER BY created_at, id`,
      matching: `SELECT id FROM ${hooks} WHERE kinds LIKE $1 ESCAPE '\\'`,
      deleteHook: `DELETE FROM ${hooks} WHERE id = $1`,
      deleteDeliveriesOf: `DELETE FROM ${deliveries} WHERE webhook_id = $1`,
      insertDelivery: `INSERT INTO ${deliveries} (${columns})
                       VALUES ($1, $2, $3, $4, $5, $5, 'pending', 0, $5, NULL, NULL, NULL, NULL)`,
      delivery: `SELECT ${columns} FROM ${deliveries} WHERE webhook_id = $1 AND id = $2`,
      due: `SELECT id FROM ${deliveries} WHERE state = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at LIMIT $2${skipLocked}`,
      take: `UPDATE ${deliveries} SET attempts = attempts + 1, last_attempt_at = $2, next_attempt_at = $3
             WHERE id = $1 AND state = 'pending'`,
      claimed: `SELECT d.id, d.webhook_id, d.event_id, d.kind, d.created_at, d.queued_at, d.state, d.attempts,
                       d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.finished_at,
                       w.url, w.secret, e.id AS e_id, e.at AS e_at, e.type AS e_type, e.file_id AS e_file_id,
                       e.user_id AS e_user_id, e.user_name AS e_user_name, e.details AS e_details
                FROM ${deliveries} d JOIN ${hooks} w ON w.id = d.webhook_id
                LEFT JOIN ${events} e ON e.id = d.event_id
                WHERE d.id = $1`,
      settle: `UPDATE ${deliveries} SET state = $3, last_status = $4, last_error = $5, next_attempt_at = $6,
                 finished_at = $7
               WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      redeliver: `UPDATE ${deliveries} SET state = 'pending', attempts = 0, queued_at = $3, next_attempt_at = $3,
                    finished_at = NULL
                  WHERE webhook_id = $1 AND id = $2`,
      prune: `DELETE FROM ${deliveries} WHERE state <> 'pending' AND finished_at < $1`,
    };
  }

  // ---- the outbox write, inside the event's transaction ---------------------------------------------------------

  /** Queues a delivery of `event` to every webhook that matches its kind. Runs in the transaction writing `event`. */
  async enqueueEvent(tx: SqlExecutor, event: NewEvent & { id: number; at: number }): Promise<void> {
    if (!storable(event.type)) return;
    const hooks = await tx.all<{ id: string }>(this.sql.matching, [`%,${likeLiteral(event.type)},%`]);
    for (const { id } of hooks) {
      await tx.run(this.sql.insertDelivery, [randomUUID(), id, event.id, event.type, event.at]);
    }
  }

  // ---- webhooks --------------------------------------------------------------------------------------------------

  async createWebhook(hook: WebhookRecord, event?: Describe<Webhook>): Promise<Webhook> {
    return this.db.transaction(async (tx) => {
      await tx.run(this.sql.insertHook, [
        hook.id,
        hook.url,
        hook.events === null ? null : JSON.stringify(hook.events),
        kindList(hook.kinds),
        hook.description,
        hook.secret,
        hook.createdAt,
        hook.createdBy,
      ]);
      const view = publicView(hook);
      await this.record(tx, event, view, hook.createdAt);
      return view;
    });
  }

  /** Writes the audit event `describe` makes of `hook`, if any, with `tx`. */
  private async record(tx: SqlExecutor, describe: Describe<Webhook> | undefined, hook: Webhook, at: number) {
    const event = describe?.(hook);
    if (event) await this.audit(tx, event, at);
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.all<WebhookRow>(this.sql.hook, [id]);
    return row ? toWebhook(row) : null;
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return (await this.db.all<WebhookRow>(this.sql.hooks)).map(toWebhook);
  }

  async updateWebhook(
    id: string,
    change: Partial<Pick<WebhookRecord, 'url' | 'events' | 'kinds' | 'description'>>,
    audit?: WebhookAudit,
  ): Promise<Webhook | null> {
    if (!storable(id)) return null;
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (change.url !== undefined) set('url', change.url);
    if (change.events !== undefined) set('events', change.events === null ? null : JSON.stringify(change.events));
    if (change.kinds !== undefined) set('kinds', kindList(change.kinds));
    if (change.description !== undefined) set('description', change.description);
    return this.db.transaction(async (tx) => {
      if (sets.length > 0) {
        await tx.run(`UPDATE ${this.db.dialect.table('webhooks')} SET ${sets.join(', ')} WHERE id = $1`, params);
      }
      const [row] = await tx.all<WebhookRow>(this.sql.hook, [id]);
      if (!row) return null;
      const view = publicView(toWebhook(row));
      if (audit) await this.record(tx, audit.event, view, audit.at);
      return view;
    });
  }

  async deleteWebhook(id: string, audit?: WebhookAudit): Promise<boolean> {
    if (!storable(id)) return false;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<WebhookRow>(this.sql.hook, [id]);
      if (!row) return false;
      await tx.run(this.sql.deleteDeliveriesOf, [id]);
      await tx.run(this.sql.deleteHook, [id]);
      if (audit) await this.record(tx, audit.event, publicView(toWebhook(row)), audit.at);
      return true;
    });
  }

  // ---- deliveries ------------------------------------------------------------------------------------------------

  async enqueuePing(webhookId: string, at: number): Promise<WebhookDelivery> {
    const id = randomUUID();
    await this.db.run(this.sql.insertDelivery, [id, webhookId, null, PING_KIND, at]);
    return (await this.getDelivery(webhookId, id)) as WebhookDelivery;
  }

  async deliveries(webhookId: string, query: { limit: number; before?: string }): Promise<WebhookDelivery[]> {
    if (!storable(webhookId)) return [];
    const table = this.db.dialect.table('webhook_deliveries');
    const params: unknown[] = [webhookId];
    let page = '';
    if (query.before !== undefined) {
      const before = storable(query.before) ? await this.getDelivery(webhookId, query.before) : null;
      if (!before) return [];
      // newest first by (created_at, id): the ids are random, they only break ties
      params.push(before.createdAt, before.id);
      page = ' AND (created_at < $2 OR (created_at = $2 AND id < $3))';
    }
    params.push(Math.max(0, Math.min(query.limit, 1000)));
    const rows = await this.db.all<DeliveryRow>(
      `SELECT * FROM ${table} WHERE webhook_id = $1${page} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toDelivery);
  }

  async getDelivery(webhookId: string, id: string): Promise<WebhookDelivery | null> {
    if (!storable(webhookId) || !storable(id)) return null;
    const [row] = await this.db.all<DeliveryRow>(this.sql.delivery, [webhookId, id]);
    return row ? toDelivery(row) : null;
  }

  async claim(now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const ids = await this.db.transaction(async (tx) => {
      const due = await tx.all<{ id: string }>(this.sql.due, [now, limit]);
      for (const { id } of due) await tx.run(this.sql.take, [id, now, leaseUntil]);
      return due.map((r) => r.id);
    });
    const claimed: ClaimedDelivery[] = [];
    for (const id of ids) {
      const [row] = await this.db.all<ClaimedRow>(this.sql.claimed, [id]);
      if (row) claimed.push(toClaimed(row));
    }
    return claimed;
  }

  async settle(id: string, attempt: number, outcome: DeliveryOutcome, at: number): Promise<boolean> {
    const error = outcome.state === 'delivered' ? null : outcome.error.slice(0, MAX_ERROR);
    const changed = await this.db.run(this.sql.settle, [
      id,
      attempt,
      outcome.state,
      outcome.status,
      error,
      outcome.state === 'pending' ? outcome.nextAttemptAt : null,
      outcome.state === 'pending' ? null : at,
    ]);
    return changed > 0;
  }

  async redeliver(webhookId: string, id: string, at: number): Promise<WebhookDelivery | null> {
    if (!storable(webhookId) || !storable(id)) return null;
    await this.db.run(this.sql.redeliver, [webhookId, id, at]);
    return this.getDelivery(webhookId, id);
  }

  pruneDeliveries(before: number): Promise<number> {
    return this.db.run(this.sql.prune, [before]);
  }
}
