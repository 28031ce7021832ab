import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { ALL_PERMISSIONS, type Permissions } from '../../src/auth/tokens.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { Quire, type QuireOptions } from '../../src/quire.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import type { SqlDatabase } from '../../src/storage/sql/database.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { Storage, UserStore } from '../../src/storage/types.ts';

/** A store on one of Quire's SQL backends, with its database at hand for tests that look at the rows. */
export type SqlStorage = Storage & { db: SqlDatabase; users: UserStore };

import type { User } from '../../src/users/accounts.ts';

/** The PostgreSQL database the tests use; each store gets its own schema there, dropped when the store closes. */
export const TEST_DATABASE_URL = process.env.QUIRE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why the test database does not answer, or null when it does (asked once per test process, briefly). */
async function whyPostgresUnreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

const postgresProblem = await whyPostgresUnreachable();
// CI sets this so the PostgreSQL runs can never be skipped without anyone noticing.
if (postgresProblem !== null && process.env.QUIRE_TEST_REQUIRE_POSTGRES === '1') {
  throw new Error(`QUIRE_TEST_REQUIRE_POSTGRES=1 but ${TEST_DATABASE_URL} is unreachable: ${postgresProblem}`);
}
/** True when the PostgreSQL kind is in `storageKinds` (the test database answered). */
export const postgresAvailable = postgresProblem === null;

/** A fresh schema name for one store: quire_test_<hex>. */
export const freshTestSchema = () => `quire_test_${randomBytes(6).toString('hex')}`;

/** Drops a schema a test made in the test database, with everything in it. */
export async function dropTestSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Opens PostgreSQL storage in a fresh schema of the test database (blobs under `dataDir`); close() drops it. */
export async function openTestPostgresStorage(dataDir: string, schema = freshTestSchema()): Promise<SqlStorage> {
  const storage = await openPostgresStorage({
    connectionString: TEST_DATABASE_URL,
    schema,
    blobDir: join(dataDir, 'blobs'),
    maxConnections: 4,
  });
  return {
    ...storage,
    async close() {
      try {
        await storage.db.pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await storage.close();
      }
    },
  };
}

/**
 * The storage implementations every protocol test runs against. Each entry opens a fresh, empty store.
 * PostgreSQL is included when its test database (QUIRE_TEST_DATABASE_URL) is reachable.
 */
export const storageKinds: Array<{ name: string; open(dataDir: string): Promise<SqlStorage> }> = [
  { name: 'sqlite', open: (dir) => openSqliteStorage(dir) },
  ...(postgresAvailable ? [{ name: 'postgres', open: (dir: string) => openTestPostgresStorage(dir) }] : []),
];

export interface TestHost {
  quire: Quire;
  /** http://127.0.0.1:PORT */
  url: string;
  dataDir: string;
  clock: ManualClock;
  /** Imports a file with these bytes; returns its id. */
  addFile(name: string, content?: string | Uint8Array, ownerId?: string): Promise<string>;
  /** A token for `fileId` (all permissions unless given). */
  token(
    fileId: string,
    opts?: { userId?: string; userName?: string; permissions?: Permissions; ttlMs?: number },
  ): Promise<string>;
  /** A client bound to one file and token. */
  client(fileId: string, token?: string): Promise<WopiClient>;
  close(): Promise<void>;
}

/** A real Quire on 127.0.0.1 (random port) over a fresh temp data dir and a clock the test moves. */
export async function startHost(
  options: Partial<QuireOptions> & { storageKind?: (typeof storageKinds)[number] } = {},
): Promise<TestHost> {
  const dataDir = await mkdtemp(join(tmpdir(), 'quire-test-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const kind = options.storageKind ?? storageKinds[0];
  const storage = options.storage ?? (await kind?.open(dataDir));
  const quire = await Quire.create({ dataDir, clock, storage, ...options });
  const url = await quire.listen(0, '127.0.0.1');
  const host: TestHost = {
    quire,
    url,
    dataDir,
    clock,
    async addFile(name, content = '', ownerId = 'owner') {
      const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
      const file = await quire.addFile({ source: Readable.from([bytes]), name, ownerId });
      return file.id;
    },
    async token(fileId, opts = {}) {
      const minted = await quire.mintToken({
        fileId,
        userId: opts.userId ?? 'alice',
        userName: opts.userName ?? 'Alice Example',
        permissions: opts.permissions ?? ALL_PERMISSIONS,
        ...(opts.ttlMs !== undefined && { ttlMs: opts.ttlMs }),
      });
      return minted.access_token;
    },
    async client(fileId, token) {
      return new WopiClient(url, fileId, token ?? (await host.token(fileId)));
    },
    async close() {
      await quire.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return host;
}

/** A response read in full: status, headers, and the body as bytes, text and (when it is JSON) parsed. */
export interface ReadResponse {
  status: number;
  headers: Headers;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields directly and assert on them
  json: any;
  bytes: Buffer;
}

export type WopiResponse = ReadResponse;

export async function readResponse(res: Response): Promise<ReadResponse> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, bytes };
}

/** Plain fetch against the WOPI endpoints of one file, so tests read like the requests editors send. */
export class WopiClient {
  constructor(
    readonly baseUrl: string,
    readonly fileId: string,
    readonly token: string,
  ) {}

  fileUrl(suffix = '', fileId = this.fileId, token = this.token): string {
    return `${this.baseUrl}/wopi/files/${encodeURIComponent(fileId)}${suffix}?access_token=${encodeURIComponent(token)}`;
  }

  async request(
    method: string,
    suffix: string,
    headers: Record<string, string> = {},
    body?: string | Uint8Array,
  ): Promise<WopiResponse> {
    return readResponse(await fetch(this.fileUrl(suffix), { method, headers, ...(body !== undefined && { body }) }));
  }

  checkFileInfo(headers: Record<string, string> = {}) {
    return this.request('GET', '', headers);
  }
  getFile(headers: Record<string, string> = {}) {
    return this.request('GET', '/contents', headers);
  }
  putFile(body: string | Uint8Array, headers: Record<string, string> = {}) {
    return this.request('POST', '/contents', { 'X-WOPI-Override': 'PUT', ...headers }, body);
  }
  override(op: string, headers: Record<string, string> = {}, body?: string | Uint8Array) {
    return this.request('POST', '', { 'X-WOPI-Override': op, ...headers }, body);
  }
  lock(lock: string, headers: Record<string, string> = {}) {
    return this.override('LOCK', { 'X-WOPI-Lock': lock, ...headers });
  }
  unlockAndRelock(oldLock: string, lock: string) {
    return this.override('LOCK', { 'X-WOPI-Lock': lock, 'X-WOPI-OldLock': oldLock });
  }
  getLock() {
    return this.override('GET_LOCK');
  }
  refreshLock(lock: string) {
    return this.override('REFRESH_LOCK', { 'X-WOPI-Lock': lock });
  }
  unlock(lock: string) {
    return this.override('UNLOCK', { 'X-WOPI-Lock': lock });
  }
  putRelative(body: string | Uint8Array, headers: Record<string, string>) {
    return this.override('PUT_RELATIVE', headers, body);
  }
  rename(requestedName: string, headers: Record<string, string> = {}) {
    return this.override('RENAME_FILE', { 'X-WOPI-RequestedName': requestedName, ...headers });
  }
  deleteFile(headers: Record<string, string> = {}) {
    return this.override('DELETE', headers);
  }
  putUserInfo(info: string) {
    return this.override('PUT_USER_INFO', {}, info);
  }

  /** The current content, via GetFile (throws unless 200). */
  async content(): Promise<Buffer> {
    const res = await this.getFile();
    if (res.status !== 200) throw new Error(`GetFile answered ${res.status}: ${res.text}`);
    return res.bytes;
  }
}

/**
 * A JSON API call as the signed-in holder of `cookie`: Accept JSON and the cookie on every request, plus `headers`
 * (e.g. a JSON Content-Type), then whatever the call itself sets.
 */
export function apiAs(host: TestHost, cookie: string, headers: Record<string, string> = {}) {
  return async (path: string, init: RequestInit = {}): Promise<ReadResponse> =>
    readResponse(
      await fetch(`${host.url}${path}`, {
        ...init,
        headers: {
          Accept: 'application/json',
          Cookie: cookie,
          ...headers,
          ...(init.headers as Record<string, string>),
        },
      }),
    );
}

/** Creates the user (when new) and signs in through POST /login; returns the session cookie and the user. */
export async function signIn(
  host: TestHost,
  name = 'ann',
  opts: { displayName?: string; password?: string; isAdmin?: boolean } = {},
): Promise<{ cookie: string; user: User }> {
  const users = host.quire.accounts;
  assert.ok(users, 'the storage has a user store');
  const password = opts.password ?? 'correct horse 1';
  let user = await users.findByName(name);
  if (!user) {
    user = await users.create({
      name,
      displayName: opts.displayName ?? `User ${name}`,
      password,
      ...(opts.isAdmin !== undefined && { isAdmin: opts.isAdmin }),
    });
  }
  const res = await fetch(`${host.url}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name, password, next: '/' }).toString(),
    redirect: 'manual',
  });
  assert.equal(res.status, 303, 'sign-in succeeds');
  await res.arrayBuffer();
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie, 'sign-in sets a session cookie');
  return { cookie, user };
}

/** UTF-7 the way WOPI clients put names in headers (for tests that build headers by hand). */
export { encodeNameHeader as utf7 } from '../../src/wopi/name-header.ts';
