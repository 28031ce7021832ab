// A child process for test/sqlite-gc.test.ts: opens, uses and closes SQLite databases through Quire's driver, drops
// them, then makes garbage until the collector has run. It prints "collected" and exits 0 unless the collector's
// finalizing of the driver's better-sqlite3 objects aborts the process (as it does on Node 24 with better-sqlite3 12).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '../../src/storage/sqlite/database.ts';

const dir = await mkdtemp(join(tmpdir(), 'quire-sqlite-churn-'));
try {
  for (let i = 0; i < 20; i++) {
    const db = new SqliteDatabase(join(dir, `${i}.sqlite`));
    await db.exec('CREATE TABLE t (a INTEGER)');
    await db.run('INSERT INTO t (a) VALUES ($1)', [i]);
    await db.all('SELECT a FROM t WHERE a = $1', [i]);
    await db.close();
  }
  // young-generation collections, as a busy process makes them, then a full one
  let garbage: object[] = [];
  for (let i = 0; i < 2_000_000; i++) {
    garbage.push({ i });
    if (garbage.length > 10_000) garbage = [];
  }
  (globalThis as { gc?: () => void }).gc?.();
  console.log('collected');
} finally {
  await rm(dir, { recursive: true, force: true });
}
