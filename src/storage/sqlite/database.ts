import { realpathSync } from 'node:fs';
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
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  returningId: ' RETURNING id',
};

/**
 * Parameters by name (`$1` → `@p1`), so statements are written once in PostgreSQL's style. better-sqlite3 binds
 * numbers, strings, bigints, buffers and null; booleans become 1 and 0.
 */
const toSqlite = (sql: string) => sql.replace(/\$(\d+)/g, '@p$1');
const bindable = (params: readonly unknown[]) =>
  Object.fromEntries(params.map((p, i) => [`p${i + 1}`, typeof p === 'boolean' ? (p ? 1 : 0) : p]));

/** Results remembered per statement before that statement's are forgotten; larger results are not kept. */
const MAX_REMEMBERED_PER_STATEMENT = 10_000;
const MAX_REMEMBERED_ROWS = 100;

/**
 * Every better-sqlite3 object this driver makes, held until the process ends: none is ever left to the garbage
 * collector. Why: better-sqlite3 12 wraps its Database and Statement objects in Node's old `node::ObjectWrap`, whose
 * destructor, as Node 24's headers compile it, removes an environment cleanup hook; when the collector finalizes an
 * unreachable Statement, Node 24 finds no current environment and aborts the process (`Assertion failed: (env) !=
 * nullptr` in RemoveEnvironmentCleanupHook, from `Statement::~Statement`), in the middle of a run or at exit. Objects
 * still reachable when the process ends are freed by Node's own cleanup hooks instead, which is safe. What a closed
 * database leaves held is small (close() frees its SQLite handles), and a process opens few (a test file, hundreds).
 * This can go, with `exec('PRAGMA …')` below back to `pragma()` if wanted, once Quire is on better-sqlite3 13
 * (Node-API, no ObjectWrap), which needs Node 22 or later: when Quire drops Node 20.
 */
const heldUntilExit: object[] = [];

/** Keeps a better-sqlite3 object (a Database, a Statement) from the collector until the process ends (see above). */
export function holdUntilExit<T extends object>(object: T): T {
  heldUntilExit.push(object);
  return object;
}

class Connection implements SqlExecutor {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly raw: Database.Database) {
    // the cache above holds every statement this connection prepares
    heldUntilExit.push(this);
  }

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
  heldUntilExit.push(db);
  // exec, not pragma(): pragma() prepares a Statement object each call and drops it (see heldUntilExit)
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  // a CLI command or another process writing: wait for it rather than fail
  db.exec('PRAGMA busy_timeout = 10000');
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}

/**
 * What every SqliteDatabase open on the same file in this process shares: one queue of writers (a second one
 * waiting in BEGIN IMMEDIATE for a first that awaits would block the thread it needs to finish), and a count of
 * commits, so a read after any of them in this process forgets what it remembered.
 */
interface SharedFile {
  queue: Promise<unknown>;
  commits: number;
  openCount: number;
}
const sharedFiles = new Map<string, SharedFile>();

function share(path: string): { key: string; file: SharedFile } {
  const key = realpathSync(path);
  const found = sharedFiles.get(key) ?? { queue: Promise.resolve(), commits: 0, openCount: 0 };
  sharedFiles.set(key, found);
  found.openCount++;
  return { key, file: found };
}

/**
 * One SQLite file (WAL, synchronous=FULL), shared by the server and CLI commands on the same data dir.
 *
 * Writes go through one connection, one transaction at a time (a queue shared by everything in this process that
 * has the file open, and BEGIN IMMEDIATE across processes), so a transaction's statements never interleave with
 * another's even though the SQL rules are written as async code. Reads outside transactions use a second
 * connection, which sees only committed data.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = dialect;
  private readonly writer: Connection;
  private readonly reader: Connection;
  private readonly shared: { key: string; file: SharedFile };
  private readonly dataVersion: Database.Statement<[], number>;
  private seenVersion = -1;
  private seenCommits = -1;
  /** Whether data_version was read in this turn of the event loop. */
  private checkedThisTurn = false;
  private readonly endTurn = () => {
    this.checkedThisTurn = false;
  };
  /** Read results by statement, then by parameters. */
  private readonly remembered = new Map<string, Map<string, unknown[]>>();

  constructor(path: string) {
    this.writer = new Connection(open(path));
    this.reader = new Connection(open(path));
    this.shared = share(path);
    this.dataVersion = this.reader.raw.prepare<[], number>('PRAGMA data_version').pluck();
    heldUntilExit.push(this.dataVersion);
  }

  /**
   * Reads on committed data. Results are remembered until the database changes: SQLite's data_version moves
   * whenever another connection (this process's writer, a CLI command, another process) commits, and then
   * everything remembered is forgotten. It is read once per turn of the event loop, and again after any commit
   * made in this process: a read never misses a commit it could know of. Another process's commit is seen from the
   * next turn on; within a turn no I/O happens, so nothing that turn reads can depend on that commit. An editor's CheckFileInfo, GetFile
   * and GetLock calls between saves cost lookups instead of queries.
   */
  async all<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const commits = this.shared.file.commits;
    if (!this.checkedThisTurn || this.seenCommits !== commits) {
      this.checkedThisTurn = true;
      this.seenCommits = commits;
      setImmediate(this.endTurn);
      const version = this.dataVersion.get() as number;
      if (version !== this.seenVersion) {
        this.remembered.clear();
        this.seenVersion = version;
      }
    }
    const byParams = this.remembered.get(sql);
    const key = JSON.stringify(params);
    const hit = byParams?.get(key);
    if (hit) return hit as Row[];
    const rows = await this.reader.all<Row>(sql, params);
    if (rows.length <= MAX_REMEMBERED_ROWS) {
      const forStatement = byParams ?? new Map<string, unknown[]>();
      if (!byParams) this.remembered.set(sql, forStatement);
      if (forStatement.size >= MAX_REMEMBERED_PER_STATEMENT) forStatement.clear();
      forStatement.set(key, rows);
    }
    return rows;
  }

  /** A single write outside a transaction still waits its turn: it must not land inside someone else's. */
  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const file = this.shared.file;
    const turn = file.queue.then(() => this.inTransaction(work));
    file.queue = turn.catch(() => {});
    return turn;
  }

  private async inTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const raw = this.writer.raw;
    raw.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(this.writer);
      raw.exec('COMMIT');
      // every reader in this process looks at data_version again, and so forgets what this commit changed
      this.shared.file.commits++;
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
    const { key, file } = this.shared;
    await file.queue;
    this.reader.raw.close();
    this.writer.raw.close();
    if (--file.openCount === 0 && sharedFiles.get(key) === file) sharedFiles.delete(key);
  }
}
