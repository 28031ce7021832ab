import { Readable } from 'node:stream';
import { Quire } from '../../src/index.ts';
import type { S3BlobOptions } from '../../src/storage/s3/index.ts';
import type { Scope } from './cleanup.ts';
import { dropSchema, schemaUrl } from './postgres.ts';
import { type Backend, type Server, startQuire } from './servers.ts';

/**
 * One Quire under test: a fresh data dir (and, on PostgreSQL, a fresh schema), files and tokens prepared through
 * Quire's library API on that store, then `quire serve` on it as a child process. Everything goes when the scope
 * closes.
 */

export interface Store {
  backend: Backend;
  dataDir: string;
  /** the URL `quire serve --database` gets (with its own schema), on PostgreSQL */
  databaseUrl?: string;
  schema?: string;
  /** blobs in this bucket and prefix rather than DATA/blobs (the s3 group) */
  s3?: S3BlobOptions;
}

let stores = 0;

export function newStore(scope: Scope, backend: Backend): Store {
  const dataDir = scope.tempDir();
  if (backend.name === 'SQLite') return { backend, dataDir };
  const schema = `quire_bench_${process.pid}_${stores++}`;
  // registered before the server starts, so it runs after the server has stopped
  scope.defer(() => dropSchema(backend.url, schema));
  return { backend, dataDir, schema, databaseUrl: schemaUrl(backend.url, schema) };
}

/** Quire's library on the store (creating it when new), closed after `work`; the server sees what it does. */
export async function withLibrary<T>(store: Store, work: (quire: Quire) => Promise<T>): Promise<T> {
  const quire = await Quire.create({
    dataDir: store.dataDir,
    ...(store.databaseUrl && { databaseUrl: store.databaseUrl }),
    ...(store.s3 && { s3: store.s3 }),
  });
  try {
    return await work(quire);
  } finally {
    await quire.close();
  }
}

export interface Prepared {
  id: string;
  token: string;
}

/** Imports `bytes` as a new file and mints a read-write token for it. */
export async function addFile(quire: Quire, name: string, bytes: Buffer): Promise<Prepared> {
  const file = await quire.addFile({ source: Readable.from([bytes]), name, ownerId: 'bench' });
  return { id: file.id, token: await mintToken(quire, file.id) };
}

export async function mintToken(quire: Quire, fileId: string): Promise<string> {
  const minted = await quire.mintToken({ fileId, userId: 'bench', userName: 'Bench' });
  return minted.access_token;
}

/** `quire serve` on the store (with its --s3-… flags and credentials when it has a bucket), plus `args`. */
export function serve(scope: Scope, store: Store, args: string[] = []): Promise<Server> {
  const s3 = store.s3;
  if (!s3) return startQuire(scope, store.dataDir, store.databaseUrl, { args });
  const flags = ['--s3-bucket', s3.bucket];
  if (s3.endpoint) flags.push('--s3-endpoint', s3.endpoint);
  if (s3.region) flags.push('--s3-region', s3.region);
  if (s3.prefix) flags.push('--s3-prefix', s3.prefix);
  if (s3.forcePathStyle) flags.push('--s3-path-style');
  // credentials only from the environment, as a user gives them
  const env = s3.credentials && {
    QUIRE_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    QUIRE_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
  return startQuire(scope, store.dataDir, store.databaseUrl, { args: [...flags, ...args], ...(env && { env }) });
}

/** The WOPI URLs of a prepared file on a server. */
export function wopi(server: Server, file: Prepared) {
  const q = `?access_token=${encodeURIComponent(file.token)}`;
  const base = `${server.url}/wopi/files/${encodeURIComponent(file.id)}`;
  return { file: base + q, contents: `${base}/contents${q}` };
}
