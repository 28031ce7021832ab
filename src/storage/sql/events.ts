import { eventFieldText } from '../event-text.ts';
import type { EventLog, EventQuery, EventRecord, NewEvent } from '../types.ts';
import { type SqlDatabase, type SqlExecutor, storable } from './database.ts';
import { SqlWebhookStore } from './webhooks.ts';

interface EventRow {
  id: number | string;
  at: number | string;
  type: string;
  file_id: string | null;
  user_id: string | null;
  user_name: string | null;
  address: string | null;
  client: string | null;
  correlation_id: string | null;
  session_id: string | null;
  details: string | null;
}

const text = eventFieldText;

function toEvent(r: EventRow): EventRecord {
  return {
    id: Number(r.id),
    at: Number(r.at),
    type: r.type,
    ...(r.file_id !== null && { fileId: r.file_id }),
    ...(r.user_id !== null && { userId: r.user_id }),
    ...(r.user_name !== null && { userName: r.user_name }),
    ...(r.address !== null && { address: r.address }),
    ...(r.client !== null && { client: r.client }),
    ...(r.correlation_id !== null && { correlationId: r.correlation_id }),
    ...(r.session_id !== null && { sessionId: r.session_id }),
    ...(r.details !== null && { details: JSON.parse(r.details) as Record<string, unknown> }),
  };
}

/**
 * The event log in the catalog's database, on either backend; changes write theirs through `insert`, which also
 * writes the event's webhook deliveries (the outbox) in the same transaction.
 */
export class SqlEventLog implements EventLog {
  private readonly sql;
  /** The webhooks an event is delivered to, and the outbox `insert` fills. */
  readonly webhooks: SqlWebhookStore;

  constructor(private readonly db: SqlDatabase) {
    this.webhooks = new SqlWebhookStore(db, (tx, event, at) => this.insert(tx, event, at));
    const events = db.dialect.table('events');
    const columns = 'at, type, file_id, user_id, user_name, address, client, correlation_id, session_id, details';
    this.sql = {
      insert: `INSERT INTO ${events} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)${db.dialect.returningId}`,
      prune: `DELETE FROM ${events} WHERE at < $1`,
      select: `SELECT id, ${columns} FROM ${events}`,
    };
  }

  /** Writes `event` with `executor`: inside a change's transaction, or on its own. */
  async insert(executor: SqlExecutor, event: NewEvent, at: number): Promise<EventRecord> {
    const [row] = await executor.all<{ id: number | string }>(this.sql.insert, [
      at,
      event.type,
      text(event.fileId),
      text(event.userId),
      text(event.userName),
      text(event.address),
      text(event.client),
      text(event.correlationId),
      text(event.sessionId),
      event.details === undefined ? null : JSON.stringify(event.details),
    ]);
    const record = { ...event, id: Number(row?.id), at };
    // the outbox: one delivery per matching webhook, committed with the event (and the change it reports) or not at all
    await this.webhooks.enqueueEvent(executor, record);
    return record;
  }

  append(event: NewEvent, at: number): Promise<EventRecord> {
    return this.db.transaction((tx) => this.insert(tx, event, at));
  }

  async list(query: EventQuery): Promise<EventRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.fileId !== undefined) {
      if (!storable(query.fileId)) return [];
      add('file_id = ?', query.fileId);
    }
    if (query.userId !== undefined) {
      if (!storable(query.userId)) return [];
      add('user_id = ?', query.userId);
    }
    if (query.visibleTo !== undefined) {
      const ids = query.visibleTo.fileIds.filter(storable);
      const first = params.length + 1;
      params.push(...ids, storable(query.visibleTo.userId) ? query.visibleTo.userId : '');
      const list = ids.map((_, i) => `$${first + i}`).join(', ');
      const mine = `user_id = $${first + ids.length}`;
      where.push(ids.length ? `(file_id IN (${list}) OR ${mine})` : mine);
    }
    if (query.afterId !== undefined) add('id > ?', query.afterId);
    if (query.beforeId !== undefined) add('id < ?', query.beforeId);
    const order = query.afterId !== undefined ? 'ASC' : 'DESC';
    params.push(Math.max(0, Math.min(query.limit, 10_000)));
    const sql = `${this.sql.select}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT $${params.length}`;
    return (await this.db.all<EventRow>(sql, params)).map(toEvent);
  }

  prune(before: number): Promise<number> {
    return this.db.run(this.sql.prune, [before]);
  }
}
