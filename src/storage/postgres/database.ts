import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Dialect, SqlDatabase, SqlExecutor } from '../sql/database.ts';

/** A schema name as a quoted identifier; anything else is refused rather than escaped into SQL. */
export function schemaIdentifier(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    throw new Error(`not a usable PostgreSQL schema name: ${JSON.stringify(schema)}`);
  }
  return pg.escapeIdentifier(schema);
}

export const dialectFor = (schema: string): Dialect => {
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
    serialKey: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    returningId: ' RETURNING id',
  };
};

/**
 * Statements with parameters run as named prepared statements: PostgreSQL parses and plans each once per
 * connection instead of on every call. The name is a digest of the text, so it is the same on every connection.
 */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `quire_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

class Executor implements SqlExecutor {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  private query(sql: string, params: readonly unknown[]) {
    if (params.length === 0) return this.client.query(sql);
    return this.client.query({ name: statementName(sql), text: sql, values: params as unknown[] });
  }

  async all<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.query(sql, params)).rows as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
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
