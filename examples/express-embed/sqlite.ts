import Database from 'better-sqlite3';

/**
 * The app's SQLite handles, kept alive until the process ends. better-sqlite3 12 on Node 24 aborts the process when
 * the garbage collector frees one of its Database or Statement objects (its `node::ObjectWrap` destructor; Quire's
 * own driver explains it in src/storage/sqlite/database.ts). So each database is held here, and `prepare` answers one
 * statement per SQL text, prepared once and held too: memory stays bounded by the app's distinct statements. On Node
 * 20 and 22, or with better-sqlite3 13, plain `new Database(path)` would do.
 */
const held: object[] = [];

export function openSqlite(path: string): Database.Database {
  const db = new Database(path);
  const statements = new Map<string, Database.Statement>();
  held.push(db, statements);
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  }) as typeof db.prepare;
  return db;
}
