import type { BlobEntry, BlobStore, Catalog } from './types.ts';

/**
 * An unreferenced blob is collected only once it has not been written or touched for this long: far longer than a
 * save takes from writing its blob to committing the version that references it, and than a restore takes from
 * touching its blob to committing.
 */
export const BLOB_GRACE_MS = 60 * 60 * 1000;

/** What one collection freed. */
export interface BlobCollection {
  blobs: number;
  bytes: number;
}

/**
 * Removes the blobs that no version (of any file, deleted ones included) and no rescued save references, and that
 * nobody has written or touched for `graceMs`: the bytes of thinned autosaves, of forgotten rescued saves, and of
 * saves that were refused and not kept.
 *
 * Blobs are listed first and the references read after, so every reference committed before the read is seen.
 * A reference committed after it is always preceded by a write or touch of its blob, which makes the blob young
 * again; BlobStore.remove checks the age and removes as one step, so such a blob is kept (FsBlobStore.remove gives
 * the full argument). `now` is the blob store's time (the file system's, for FsBlobStore), not Quire's clock.
 */
export async function collectBlobs(
  storage: { catalog: Catalog; blobs: BlobStore },
  options: { graceMs?: number; now?: number } = {},
): Promise<BlobCollection> {
  const writtenBefore = (options.now ?? Date.now()) - (options.graceMs ?? BLOB_GRACE_MS);
  const old: BlobEntry[] = [];
  for await (const entry of storage.blobs.list()) if (entry.writtenAt < writtenBefore) old.push(entry);
  const freed: BlobCollection = { blobs: 0, bytes: 0 };
  if (old.length === 0) return freed;
  const referenced = await storage.catalog.referencedBlobKeys();
  for (const entry of old) {
    if (referenced.has(entry.key) || !(await storage.blobs.remove(entry.key, writtenBefore))) continue;
    freed.blobs++;
    freed.bytes += entry.size;
  }
  return freed;
}
