import pg from 'pg';

/** The PostgreSQL the benchmarks use: reachability, a fresh schema per Quire instance, dropped afterwards. */

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The application_name of this bench's own connections (seeding), so that a cleanup can end them. */
const APPLICATION = `quire-bench-${process.pid}`;

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: APPLICATION });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** null when reachable, else why not. */
export async function unreachable(url: string): Promise<string | null> {
  try {
    await withClient(url, (c) => c.query('SELECT 1'));
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  }
}

/** The URL Quire is given: the same database, with `schema` first on the search_path. */
export const schemaUrl = (url: string, schema: string) =>
  `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;

/** The URL without its password, for printing. */
export function printable(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Drops the schema, first ending any of this bench's connections still at work (a seeding that was interrupted). */
export const dropSchema = (url: string, schema: string) =>
  withClient(url, async (c) => {
    await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [APPLICATION],
    );
    await c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
