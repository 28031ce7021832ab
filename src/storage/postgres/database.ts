import pg from 'pg';
import type { Dialect, SqlDatabase, SqlExecutor } from '../sql/database.ts';

/** A schema name as a quoted identifier; anything else is refused rather than escaped into SQL. */
export function schemaIdentifier(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    throw new Error(`not a usable PostgreSQL schema name: ${JSON.stringify(schema)}`);
  }
  return pg.escapeIdentifier(schema);
}

const dialectFor = (schema: string): Dialect => {
  const s = schemaIdentifier(schema);
  return {
    int8: 'BIGINT',
    bool: 'BOOLEAN',
    bytes: 'BYTEA',
    table: (name) => `${s}.${name}`,
    forUpdate: ' FOR UPDATE',
    // "C": byte order, as SQLite's BINARY collation sorts
    byteOrder: ' COLLATE "C"',
    lockKey: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
  };
};

class Executor implements SqlExecutor {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async all<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.client.query(sql, params as unknown[])).rows as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.client.query(sql, params as unknown[])).rowCount ?? 0;
  }
}

/** One PostgreSQL schema, through a pool shared by every request of this instance. */
export class PgDatabase extends Executor implements SqlDatabase {
  readonly dialect: Dialect;

  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    super(pool);
    this.dialect = dialectFor(schema);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(new Executor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is in an unknown state: the pool must discard it, not hand it out again.
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
