import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { holdUntilExit } from './database.ts';

/** A table of a catalog as SQLite describes it: its columns in order, and the tables its foreign keys name. */
export interface SnapshotTable {
  name: string;
  columns: string[];
  references: string[];
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A consistent copy of an embedded catalog, taken without writing a byte where the catalog lives: what `quire
 * migrate` reads. The copy sits in a private temp dir of its own and is removed by close().
 *
 * Why a copy: even a read-only SQLite connection creates the `-wal` and `-shm` files of a catalog in WAL mode when
 * they are missing (as they are once every Quire on it has stopped), and leaves them. So a catalog nothing has open
 * is copied as a file (it is whole: its log was folded in when the last connection closed); one that is open (a
 * running Quire, or one that was killed) is read through its existing log by a read-only connection, and VACUUM INTO
 * writes a snapshot as of one moment.
 */
export class CatalogSnapshot {
  private constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
  ) {}

  /** Snapshots the catalog at `path`: by copying the file (`open` false), or through SQLite (`open` true). */
  static async take(path: string, options: { open: boolean }): Promise<CatalogSnapshot> {
    const dir = await mkdtemp(join(tmpdir(), 'quire-migrate-'));
    const copy = join(dir, 'catalog.sqlite');
    try {
      if (options.open) {
        const source = holdUntilExit(new Database(path, { readonly: true, fileMustExist: true }));
        try {
          source.exec('PRAGMA busy_timeout = 10000');
          holdUntilExit(source.prepare('VACUUM INTO ?')).run(copy);
        } finally {
          source.close();
        }
      } else {
        await copyFile(path, copy);
      }
      return new CatalogSnapshot(holdUntilExit(new Database(copy, { fileMustExist: true })), dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private statement(sql: string): Database.Statement {
    return holdUntilExit(this.db.prepare(sql));
  }

  /** The schema number the catalog records, or null when it records none. */
  schemaVersion(): number | null {
    const table = this.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!table.get()) return null;
    const row = this.statement('SELECT version FROM schema_version').get() as { version: number } | undefined;
    return row ? Number(row.version) : null;
  }

  /** Every table of the catalog (SQLite's own excepted), with its columns and what its foreign keys name. */
  tables(): SnapshotTable[] {
    const names = this.statement(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
      .pluck()
      .all() as string[];
    return names.map((name) => ({
      name,
      columns: (this.statement(`PRAGMA table_info(${quoted(name)})`).all() as Array<{ name: string }>).map(
        (c) => c.name,
      ),
      references: [
        ...new Set(
          (this.statement(`PRAGMA foreign_key_list(${quoted(name)})`).all() as Array<{ table: string }>).map(
            (f) => f.table,
          ),
        ),
      ],
    }));
  }

  count(table: string): number {
    return Number(
      this.statement(`SELECT count(*) FROM ${quoted(table)}`)
        .pluck()
        .get(),
    );
  }

  /** A table's rows, `columns` in that order, in batches of at most `size`. */
  *rows(table: string, columns: readonly string[], size: number): Generator<unknown[][]> {
    const select = this.statement(`SELECT ${columns.map(quoted).join(', ')} FROM ${quoted(table)} ORDER BY rowid`);
    let batch: unknown[][] = [];
    for (const row of select.raw().iterate() as Iterable<unknown[]>) {
      batch.push(row);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** The highest number AUTOINCREMENT has handed out per table (it may exceed what rows are left). */
  sequences(): Map<string, number> {
    const exists = this.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
    if (!exists.get()) return new Map();
    const rows = this.statement('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>;
    return new Map(rows.map((r) => [r.name, Number(r.seq)]));
  }

  /** The distinct values of `column` in `table` (a blob key column), in order. */
  distinct(table: string, column: string): string[] {
    return this.statement(`SELECT DISTINCT ${quoted(column)} FROM ${quoted(table)} ORDER BY 1`)
      .pluck()
      .all() as string[];
  }

  async close(): Promise<void> {
    this.db.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
