import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { ContractSuite, StorageBackend } from '../../src/testing/index.ts';
import { openTestPostgresStorage, postgresAvailable, TEST_DATABASE_URL } from '../helpers/host.ts';
import { emptyS3Prefix, openTestS3Blobs, s3Available, s3PrefixFor } from '../helpers/s3.ts';

/**
 * One storage implementation as the contract suites (src/testing/, `quire/testing`) see it; Quire's own always open
 * peers. A new backend joins every suite with one entry in `backends`; `module` lets the suites open it in another
 * process too (they import this file there and find the backend by name).
 */
export type Backend = StorageBackend &
  Required<Pick<StorageBackend, 'openPeer' | 'module'>> & {
    /** Suites not run on it: those whose every part another backend here proves already (same code). */
    skip?: readonly ContractSuite[];
  };

/** The schema a PostgreSQL store under `dir` uses: derived from the (unique, temporary) dir, so peers find it. */
const schemaFor = (dir: string) => `quire_test_${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;

/**
 * SQLite for the catalog, the bytes in the test S3 bucket under a prefix derived from `dir` (so a peer finds them);
 * its close() leaves the objects to `dispose`, as a peer's must.
 */
async function openSqliteOnS3(dir: string) {
  const blobs = openTestS3Blobs(s3PrefixFor(dir));
  const storage = await openSqliteStorage(dir, { blobs });
  return {
    ...storage,
    async close() {
      try {
        await storage.close();
      } finally {
        blobs.close();
      }
    },
  };
}

/**
 * Every backend the contract suites run against. PostgreSQL is included when the test database answers; with
 * QUIRE_TEST_REQUIRE_POSTGRES=1 an unreachable database fails the run (test/helpers/host.ts throws on import).
 * S3 likewise, when the test bucket answers (QUIRE_TEST_S3_ENDPOINT …; QUIRE_TEST_REQUIRE_S3=1 fails the run
 * without it, test/helpers/s3.ts): blobs in the bucket, the catalog in SQLite.
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
  ...(s3Available
    ? [
        {
          name: 'sqlite+s3',
          open: openSqliteOnS3,
          openPeer: openSqliteOnS3,
          dispose: (dir: string) => emptyS3Prefix(s3PrefixFor(dir)),
          // the catalog is SQLite's, proved above: only the suites that write and collect blobs run again
          skip: ['catalog', 'locks', 'events', 'users', 'access', 'webhooks'] as const,
          module: import.meta.url,
        },
      ]
    : []),
];
