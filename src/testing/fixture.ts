import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach } from 'node:test';
import type { Describe, FileRecord, NewVersion, Storage, StoredBlob } from '../storage/types.ts';
import type { StorageBackend } from './backend.ts';

/** The instant the suites call "now"; times are passed explicitly, so nothing waits. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const MINUTE = 60_000;

/**
 * A lock as the store answers it: the value and expiry it was given, and its own bookkeeping (taken at `takenAt`,
 * last set or refreshed at `refreshedAt`).
 */
export const held = (value: string, expiresAt: number, takenAt: number, refreshedAt = takenAt) => ({
  value,
  expiresAt,
  takenAt,
  refreshedAt,
});

/** Ids no file has, some of which a SQL driver might choke on rather than answer "no such file". */
export const HOSTILE_IDS = ['\u0000', 'abc\u0000def', '\ud800', "x' OR '1'='1", 'x'.repeat(10_000)];

/** One test's store: a fresh temp dir and an empty store in it, plus peers on the same data. */
export interface StoreFixture {
  backend: StorageBackend;
  dir: string;
  storage: Storage;
  /**
   * Another independent instance on the same data (own connections); closed with the fixture. Tests that call it
   * are skipped for a backend without `openPeer` (see `needsPeer`).
   */
  peer(): Promise<Storage>;
  close(): Promise<void>;
}

export async function openFixture(backend: StorageBackend): Promise<StoreFixture> {
  const dir = await mkdtemp(join(tmpdir(), `quire-contract-${backend.name.replace(/[^\w.-]+/g, '-')}-`));
  let storage: Storage;
  try {
    storage = await backend.open(dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const peers: Storage[] = [];
  return {
    backend,
    dir,
    storage,
    async peer() {
      if (!backend.openPeer) throw new Error(`${backend.name} opens no second instance (StorageBackend.openPeer)`);
      const peer = await backend.openPeer(dir);
      peers.push(peer);
      return peer;
    },
    async close() {
      try {
        // peers first: the store's own close() may discard the data they use
        for (const peer of peers.splice(0)) await peer.close();
        await storage.close();
        await backend.dispose?.(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Gives every test of the enclosing describe a fresh fixture (opened before it, closed after it); call the
 * returned function inside a test to get it.
 */
export function freshStorePerTest(backend: StorageBackend): () => StoreFixture {
  let current: StoreFixture | undefined;
  beforeEach(async () => {
    current = await openFixture(backend);
  });
  afterEach(async () => {
    const fixture = current;
    current = undefined;
    await fixture?.close();
  });
  return () => {
    if (!current) throw new Error('no fixture: call inside a test');
    return current;
  };
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export const bytesOf = (content: string | Uint8Array) =>
  typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);

/** Writes `content` as one blob. */
export const writeBlob = (storage: Storage, content: string | Uint8Array): Promise<StoredBlob> =>
  storage.blobs.write(Readable.from([bytesOf(content)]));

/** Reads a blob back whole. */
export async function readBlob(storage: Storage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of storage.blobs.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A new version with `content` written as its blob. */
export async function versionOf(
  storage: Storage,
  content: string | Uint8Array,
  extra: Partial<NewVersion> = {},
): Promise<NewVersion> {
  return { blob: await writeBlob(storage, content), authorId: 'author', source: 'put', ...extra };
}

/** A new file (version 1 holding `content`), as the suites start from one; `event` is written with it. */
export async function newFileIn(
  storage: Storage,
  opts: { name?: string; ownerId?: string; content?: string; event?: Describe<FileRecord> } = {},
): Promise<FileRecord> {
  return storage.catalog.createFile({
    names: [opts.name ?? 'doc.docx'],
    ownerId: opts.ownerId ?? 'owner',
    version: await versionOf(storage, opts.content ?? 'content', { source: 'import' }),
    now: T0,
    ...(opts.event && { event: opts.event }),
  });
}

/** Every file under `dir`, as sorted paths relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/** `first`, `first (1)`, `first (2)` …: the kind of candidate list documents/ hands to createFile. */
export function* numberedNames(base: string, ext: string, count = Number.POSITIVE_INFINITY): Generator<string> {
  yield `${base}${ext}`;
  for (let i = 1; i < count; i++) yield `${base} (${i})${ext}`;
}

/** A guard or decide() refusal the suites throw, so they can tell it apart from anything storage throws. */
export class Refused extends Error {
  override name = 'Refused';
  constructor(readonly seen?: unknown) {
    super('refused by the test');
  }
}
