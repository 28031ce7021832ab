import type Database from 'better-sqlite3';
import { type EventLog, type EventQuery, type EventRecord, eventFieldText, type NewEvent } from '../../../src/index.ts';

interface EventRow {
  id: number;
  at: number;
  type: string;
  document_id: string | null;
  user_id: string | null;
  user_name: string | null;
  address: string | null;
  client: string | null;
  correlation_id: string | null;
  session_id: string | null;
  details: string | null;
}

/** Text a client sent, as the EventLog contract keeps it (Quire's own rule). */
const text = eventFieldText;

function toEvent(r: EventRow): EventRecord {
  return {
    id: r.id,
    at: r.at,
    type: r.type,
    ...(r.document_id !== null && { fileId: r.document_id }),
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
 * The document history in the app's database. `insert` is synchronous so the catalog can call it inside the very
 * transaction that makes a change: there is no change without its event, and no event without its change.
 */
export class FolderEventLog implements EventLog {
  private readonly insertRow;

  constructor(private readonly db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO document_events (at, type, document_id, user_id, user_name, address, client, correlation_id,
         session_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** Writes `event`; call it inside a transaction to make it part of that change. */
  insert(event: NewEvent, at: number): EventRecord {
    const { lastInsertRowid } = this.insertRow.run(
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
    );
    return { ...event, id: Number(lastInsertRowid), at };
  }

  async append(event: NewEvent, at: number): Promise<EventRecord> {
    return this.insert(event, at);
  }

  async list(query: EventQuery): Promise<EventRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.fileId !== undefined) {
      where.push('document_id = ?');
      params.push(query.fileId);
    }
    if (query.userId !== undefined) {
      where.push('user_id = ?');
      params.push(query.userId);
    }
    if (query.visibleTo !== undefined) {
      const ids = query.visibleTo.fileIds;
      where.push(ids.length ? `(document_id IN (${ids.map(() => '?').join(', ')}) OR user_id = ?)` : 'user_id = ?');
      params.push(...ids, query.visibleTo.userId);
    }
    if (query.afterId !== undefined) {
      where.push('id > ?');
      params.push(query.afterId);
    }
    if (query.beforeId !== undefined) {
      where.push('id < ?');
      params.push(query.beforeId);
    }
    // following a cursor reads forwards; everything else reads newest first
    const order = query.afterId !== undefined ? 'ASC' : 'DESC';
    params.push(Math.max(0, Math.min(query.limit, 10_000)));
    const sql = `SELECT * FROM document_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...params) as EventRow[]).map(toEvent);
  }

  async prune(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM document_events WHERE at < ?').run(before).changes;
  }
}
