import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../types.ts';
import { MigrationError } from './errors.ts';

/** What the blob phase did: blobs the catalog references, their bytes, how many were copied now or were there. */
export interface BlobCopyResult {
  count: number;
  bytes: number;
  copied: number;
  alreadyThere: number;
}

/** Blobs a target holds and an earlier run verified there (kept in the target's catalog database, when there is one). */
export interface VerifiedBlobs {
  has(key: string): boolean;
  record(key: string, size: number): Promise<void>;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

async function hashOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Refuses when the source lacks a blob the catalog references: that version's bytes are gone already. */
export async function checkPresent(source: BlobStore, keys: readonly string[], where: string): Promise<void> {
  const missing: string[] = [];
  for (const key of keys) if (!(await source.has(key))) missing.push(key);
  if (missing.length) {
    const some = missing.slice(0, 5).join(', ');
    throw new MigrationError(
      `${missing.length} blob(s) the catalog references are missing from ${where}: ${some}${missing.length > 5 ? ', …' : ''}`,
    );
  }
}

/**
 * Copies each of `keys` from `source` to `target` and reads it back from the target, hashing it: its SHA-256 must
 * be its key. A blob the target already holds is read back and kept when it hashes right (written again when not);
 * one `verified` already knows of is skipped without reading. Tells `progress` how far it got, at most twice a
 * second.
 */
export async function copyBlobs(options: {
  source: BlobStore;
  sourceName: string;
  target: BlobStore;
  targetName: string;
  keys: readonly string[];
  /** The target's blobs and their sizes, as listed before the copy. */
  present: ReadonlyMap<string, number>;
  verified?: VerifiedBlobs;
  progress: (line: string) => void;
}): Promise<BlobCopyResult> {
  const { target, keys, present, verified, progress } = options;
  const result: BlobCopyResult = { count: keys.length, bytes: 0, copied: 0, alreadyThere: 0 };
  let told = 0;
  const tell = (done: number, force = false) => {
    const now = Date.now();
    if (!force && now - told < 500) return;
    told = now;
    progress(
      `blobs: ${done} of ${keys.length} (${result.copied} copied, ${formatBytes(result.bytes)}; ${result.alreadyThere} already there)`,
    );
  };
  for (const [i, key] of keys.entries()) {
    const size = present.get(key);
    if (size !== undefined && verified?.has(key)) {
      result.alreadyThere++;
    } else if (size !== undefined && (await hashOf(target.read(key))).sha256 === key) {
      await verified?.record(key, size);
      result.alreadyThere++;
    } else {
      await copyOne(options, key, result);
    }
    tell(i + 1, i === 0 || i === keys.length - 1);
  }
  return result;
}

async function copyOne(
  options: {
    source: BlobStore;
    sourceName: string;
    target: BlobStore;
    targetName: string;
    keys: readonly string[];
    verified?: VerifiedBlobs;
  },
  key: string,
  result: BlobCopyResult,
): Promise<void> {
  const { source, target, verified } = options;
  if (!(await source.has(key))) {
    throw new MigrationError(`blob ${key}, which the catalog references, is missing from ${options.sourceName}`);
  }
  const stored = await target.write(source.read(key));
  if (stored.key !== key) {
    // the target named the bytes by their hash: they are not what the catalog says; leave nothing of them there
    // (unless, against all odds, they are another blob the catalog references)
    if (!options.keys.includes(stored.key)) await target.remove(stored.key, Date.now() + 60_000).catch(() => false);
    throw new MigrationError(
      `blob ${key} in ${options.sourceName} is damaged: its bytes hash to ${stored.key}; nothing was copied for it`,
    );
  }
  const back = await hashOf(target.read(key));
  if (back.sha256 !== key || back.size !== stored.size) {
    throw new MigrationError(
      `blob ${key} reads back from ${options.targetName} as ${back.sha256} (${back.size} bytes, ${stored.size} written)`,
    );
  }
  await verified?.record(key, stored.size);
  result.copied++;
  result.bytes += stored.size;
}
