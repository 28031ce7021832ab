import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { StorageBackend } from '../../src/testing/index.ts';
import { openTestPostgresStorage, postgresAvailable, TEST_DATABASE_URL } from '../helpers/host.ts';

/**
 * One storage implementation as the contract suites (src/testing/, `quire/testing`) see it; Quire's own always open
 * peers. A new backend joins every suite with one entry in `backends`; `module` lets the suites open it in another
 * process too (they import this file there and find the backend by name).
 */
export type Backend = StorageBackend & Required<Pick<StorageBackend, 'openPeer' | 'module'>>;

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
    module: import.meta.url,
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
          module: import.meta.url,
        },
      ]
    : []),
];
