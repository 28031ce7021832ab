import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import { openTestPostgresStorage, postgresAvailable, TEST_DATABASE_URL } from '../helpers/host.ts';

/**
 * One storage implementation as the contract suites see it. A new backend joins every suite with one entry in
 * `backends`.
 */
export interface Backend {
  name: string;
  /**
   * Opens a fresh, empty store whose data lives in (or is named after) `dir`, a new empty directory. Its close()
   * discards whatever lives outside `dir` (a PostgreSQL schema, a bucket); the suites remove `dir` themselves.
   */
  open(dir: string): Promise<Storage>;
  /**
   * Opens a second, independent Storage on the data `open(dir)` created, with its own connections, as another
   * process or another instance behind the same address would. Its close() leaves the data alone. It may be called
   * from another process (see peer-process.ts), so it must depend on `dir` alone.
   */
  openPeer(dir: string): Promise<Storage>;
}

/** The schema a PostgreSQL store under `dir` uses: derived from the (unique, temporary) dir, so peers find it. */
const schemaFor = (dir: string) => `quire_test_${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;

/**
 * Every backend the contract suites run against. PostgreSQL is included when the test database answers; with
 * QUIRE_TEST_REQUIRE_POSTGRES=1 an unreachable database fails the run (test/helpers/host.ts throws on import).
 */
export const backends: Backend[] = [
  {
    name: 'sqlite',
    open: (dir) => openSqliteStorage(dir),
    openPeer: (dir) => openSqliteStorage(dir),
  },
  ...(postgresAvailable
    ? [
        {
          name: 'postgres',
          // close() drops the schema
          open: (dir: string) => openTestPostgresStorage(dir, schemaFor(dir)),
          openPeer: (dir: string) =>
            openPostgresStorage({
              connectionString: TEST_DATABASE_URL,
              schema: schemaFor(dir),
              blobDir: join(dir, 'blobs'),
              maxConnections: 4,
            }),
        },
      ]
    : []),
];

export function backendNamed(name: string): Backend {
  const backend = backends.find((b) => b.name === name);
  if (!backend) throw new Error(`no backend named ${JSON.stringify(name)}`);
  return backend;
}
