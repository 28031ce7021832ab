import Database from 'better-sqlite3';
import type { Dialect, SqlDatabase, SqlExecutor } from '../sql/database.ts';

const dialect: Dialect = {
  int8: 'INTEGER',
  bool: 'INTEGER',
  bytes: 'TEXT',
  table: (name) => name,
  // BEGIN IMMEDIATE takes the database's one writer lock: nothing else can change a row meanwhile
  forUpdate: '',
  byteOrder: '',
  lockKey: null,
};

/**
 * Parameters by name (`$1` → `@p1`), so statements are written once in PostgreSQL's style. better-sqlite3 binds
 * numbers, strings, bigints, buffers and null; booleans become 1 and 0.
 */
const toSqlite = (sql: string) => sql.replace(/\$(\d+)/g, '@p$1');
const bindable = (params: readonly unknown[]) =>
  Object.fromEntries(params.map((p, i) => [`p${i + 1}`, typeof p === 'boolean' ? (p ? 1 : 0) : p]));

class Connection implements SqlExecutor {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly raw: Database.Database) {}

  prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(toSqlite(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async all<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const statement = this.prepared(sql);
    return (params.length ? statement.all(bindable(params)) : statement.all()) as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const statement = this.prepared(sql);
    return (params.length ? statement.run(bindable(params)) : statement.run()).changes;
  }
}

function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // a CLI command or another process writing: wait for it rather than fail
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * One SQLite file (WAL, synchronous=FULL), shared by the server and CLI commands on the same data dir.
 *
 * Writes go through one connection, one transaction at a time (an in-process queue, and BEGIN IMMEDIATE across
 * processes), so a transaction's statements never interleave with another's even though the SQL rules are written
 * as async code. Reads outside transactions use a second connection, which sees only committed data.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = dialect;
  private readonly writer: Connection;
  private readonly reader: Connection;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, schema: (d: Dialect) => string) {
    this.writer = new Connection(open(path));
    this.writer.raw.exec(schema(dialect));
    this.reader = new Connection(open(path));
  }

  all<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.reader.all<Row>(sql, params);
  }

  /** A single write outside a transaction still waits its turn: it must not land inside someone else's. */
  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => this.inTransaction(work));
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async inTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const raw = this.writer.raw;
    raw.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(this.writer);
      raw.exec('COMMIT');
      return result;
    } catch (err) {
      if (raw.inTransaction) raw.exec('ROLLBACK');
      throw err;
    }
  }

  async exec(script: string): Promise<void> {
    await this.transaction(async () => this.writer.raw.exec(script));
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  async close(): Promise<void> {
    await this.queue;
    this.reader.raw.close();
    this.writer.raw.close();
  }
}
