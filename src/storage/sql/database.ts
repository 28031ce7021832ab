/**
 * What the SQL rules need from a database, so they are written once for SQLite and PostgreSQL. Statements use
 * PostgreSQL's `$1` placeholders (the SQLite driver maps them to its `?1`), and tables are named through
 * `dialect.table` (plain on SQLite, schema-qualified on PostgreSQL).
 */

export interface Dialect {
  /** Column types: 64-bit integers (times, sizes), booleans, bytes. */
  int8: string;
  bool: string;
  bytes: string;
  /** A table's name as statements write it. */
  table(name: string): string;
  /** Appended to the SELECT that locks a file's row until the transaction ends ('' where writers are serialized). */
  forUpdate: string;
  /** Collation for ORDER BY so both backends sort names byte-wise alike ('' where that is the default). */
  byteOrder: string;
  /** A statement that serializes name claims inside a transaction ($1: a key), or null where writers are serialized. */
  lockKey: string | null;
  /** A 64-bit primary key the database numbers itself, increasing. */
  serialKey: string;
  /** Appended to an INSERT to get the row's numbered key back as `id`. */
  returningId: string;
}

/** Runs statements: the database itself (each statement on committed data), or a transaction. */
export interface SqlExecutor {
  /** The rows a statement returns. */
  all<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: Dialect;
  /**
   * Runs `work` in one transaction that no other writer interleaves with: COMMIT when it resolves, ROLLBACK when it
   * throws (and the error is rethrown unchanged, so a guard's refusal reaches the client as it was thrown).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (the schema). */
  exec(script: string): Promise<void>;
  /** True when `err` is the database refusing a duplicate in a UNIQUE column. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

/**
 * PostgreSQL text cannot hold U+0000, and asking for it is an error rather than "no rows". A key holding it (an id
 * from a hostile URL, say) names nothing on either backend, so lookups answer "not found" without asking.
 */
export const storable = (key: string) => !key.includes('\u0000');
