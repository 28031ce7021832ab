import type { SqlDatabase, SqlExecutor } from '../sql/database.ts';
import type { CatalogSnapshot, SnapshotTable } from '../sqlite/snapshot.ts';
import { MigrationError } from './errors.ts';

/**
 * Copying an embedded catalog's rows into PostgreSQL, table by table as the source lists them (never a list written
 * here: a table a later schema adds is copied without anyone remembering to), ids and all, then moving the target's
 * identity counters past the copied ids. Both sides are at the same schema number, so their tables and columns
 * match; a mismatch is an error rather than a silent loss.
 */

/** Tables a catalog keeps for itself, not copied: the schema number (the target has its own) and the migration's. */
export const BOOKKEEPING = new Set(['schema_version', 'migration_source', 'migration_blobs']);

/** Rows per INSERT: few enough statements to be quick, parameters well under PostgreSQL's 65535. */
const MAX_BATCH = 500;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The source's tables to copy, parents before the tables whose foreign keys name them. */
export function tablesToCopy(snapshot: CatalogSnapshot): SnapshotTable[] {
  const tables = snapshot.tables().filter((t) => !BOOKKEEPING.has(t.name));
  for (const t of tables) {
    for (const name of [t.name, ...t.columns]) {
      if (!IDENTIFIER.test(name))
        throw new MigrationError(`the catalog has a table or column Quire never made: ${name}`);
    }
  }
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: SnapshotTable[] = [];
  const placed = new Set<string>();
  const place = (t: SnapshotTable, path: string[]) => {
    if (placed.has(t.name)) return;
    if (path.includes(t.name)) throw new MigrationError(`the catalog's foreign keys go round: ${path.join(' → ')}`);
    for (const parent of t.references) {
      const found = byName.get(parent);
      if (found && parent !== t.name) place(found, [...path, t.name]);
    }
    placed.add(t.name);
    ordered.push(t);
  };
  for (const t of tables) place(t, []);
  return ordered;
}

interface TargetColumn {
  table_name: string;
  column_name: string;
  data_type: string;
}

/** The target's columns and their types, per table (bookkeeping left out). */
async function targetColumns(db: SqlExecutor, schema: string): Promise<Map<string, Map<string, string>>> {
  const rows = await db.all<TargetColumn>(
    'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1',
    [schema],
  );
  const tables = new Map<string, Map<string, string>>();
  for (const r of rows) {
    if (BOOKKEEPING.has(r.table_name)) continue;
    const columns = tables.get(r.table_name) ?? new Map<string, string>();
    tables.set(r.table_name, columns);
    columns.set(r.column_name, r.data_type);
  }
  return tables;
}

/** Refuses when the target's tables and columns are not exactly the source's: something would be lost. */
export async function checkSameShape(db: SqlExecutor, schema: string, tables: SnapshotTable[]): Promise<void> {
  const target = await targetColumns(db, schema);
  const problems: string[] = [];
  for (const t of tables) {
    const columns = target.get(t.name);
    if (!columns) {
      problems.push(`table ${t.name} is missing`);
      continue;
    }
    const missing = t.columns.filter((c) => !columns.has(c));
    const extra = [...columns.keys()].filter((c) => !t.columns.includes(c));
    if (missing.length) problems.push(`${t.name} lacks ${missing.join(', ')}`);
    if (extra.length) problems.push(`${t.name} has ${extra.join(', ')}, which the source lacks`);
  }
  const names = new Set(tables.map((t) => t.name));
  for (const name of target.keys()) if (!names.has(name)) problems.push(`table ${name} is not in the source`);
  if (problems.length) {
    throw new MigrationError(`the target's tables differ from the source's: ${problems.join('; ')}`);
  }
}

/** The copied tables that hold rows in the target. */
export async function tablesWithRows(db: SqlExecutor, tables: SnapshotTable[], table: (n: string) => string) {
  const found: string[] = [];
  for (const t of tables) {
    if ((await db.all(`SELECT 1 FROM ${table(t.name)} LIMIT 1`)).length > 0) found.push(t.name);
  }
  return found;
}

/** A value as the target's column takes it: SQLite keeps booleans as 0 and 1, and some bytes as text. */
function converter(dataType: string): (value: unknown) => unknown {
  if (dataType === 'boolean') return (v) => (v === null || v === undefined ? null : Boolean(Number(v)));
  if (dataType === 'bytea') return (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
  return (v) => v;
}

/**
 * Copies every row of `tables` into the target inside `tx`, then sets each identity counter past both the copied
 * ids and the highest number the source ever handed out (so an id is never used twice, even one whose row retention
 * removed). Tells `progress` each table's count; answers the counts.
 */
export async function copyRows(
  tx: SqlExecutor,
  target: { schema: string; table: (name: string) => string },
  snapshot: CatalogSnapshot,
  tables: SnapshotTable[],
  progress: (line: string) => void,
): Promise<Array<{ name: string; rows: number }>> {
  const types = await targetColumns(tx, target.schema);
  const counts: Array<{ name: string; rows: number }> = [];
  for (const t of tables) {
    const convert = t.columns.map((c) => converter(types.get(t.name)?.get(c) ?? 'text'));
    const columnList = t.columns.map((c) => `"${c}"`).join(', ');
    const size = Math.max(1, Math.min(MAX_BATCH, Math.floor(60_000 / t.columns.length)));
    const expected = snapshot.count(t.name);
    let copied = 0;
    for (const batch of snapshot.rows(t.name, t.columns, size)) {
      const params: unknown[] = [];
      const tuples = batch.map((row) => {
        const slots = row.map((value, i) => {
          params.push((convert[i] as (v: unknown) => unknown)(value));
          return `$${params.length}`;
        });
        return `(${slots.join(', ')})`;
      });
      copied += await tx.run(
        `INSERT INTO ${target.table(t.name)} (${columnList}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')}`,
        params,
      );
    }
    if (copied !== expected) {
      throw new MigrationError(`table ${t.name}: ${copied} rows copied of ${expected}`);
    }
    counts.push({ name: t.name, rows: copied });
    progress(`table ${t.name}: ${copied} rows`);
  }
  await moveCounters(tx, target, snapshot.sequences());
  return counts;
}

async function moveCounters(
  tx: SqlExecutor,
  target: { schema: string; table: (name: string) => string },
  handedOut: Map<string, number>,
): Promise<void> {
  const counted = await tx.all<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = $1 AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`,
    [target.schema],
  );
  for (const { table_name: table, column_name: column } of counted) {
    if (BOOKKEEPING.has(table)) continue;
    const [row] = await tx.all<{ max: string | number | null }>(
      `SELECT max("${column}") AS max FROM ${target.table(table)}`,
    );
    const highest = Math.max(Number(row?.max ?? 0), handedOut.get(table) ?? 0);
    if (highest > 0) {
      await tx.all('SELECT setval(pg_get_serial_sequence($1, $2), $3)', [target.table(table), column, highest]);
    }
  }
}

/** The bookkeeping tables: where the target's data came from, and the blobs already copied and verified. */
export async function ensureBookkeeping(db: SqlDatabase): Promise<void> {
  const t = (name: string) => db.dialect.table(name);
  await db.run(`CREATE TABLE IF NOT EXISTS ${t('migration_source')} (
    source       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT
  )`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${t('migration_blobs')} (
    target       TEXT NOT NULL,
    key          TEXT NOT NULL,
    size         BIGINT NOT NULL,
    verified_at  BIGINT NOT NULL,
    PRIMARY KEY (target, key)
  )`);
}
