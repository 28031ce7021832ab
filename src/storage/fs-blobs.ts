import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, link, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asInsufficientStorage } from '../core/errors.ts';
import { makePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from '../core/private-files.ts';
import { FreeSpace } from './free-space.ts';
import type { BlobEntry, BlobStore, StoredBlob } from './types.ts';

/** A temp file untouched this long belongs to no save in progress, in this process or another. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
const BLOB_KEY = /^[0-9a-f]{64}$/;
/** A blob that collection has taken out of place to decide on: `tmp/<key>.<uuid>.gc`. */
const CLAIM_SUFFIX = '.gc';
/**
 * Temp files of saves in progress in this process (every store on any dir): never collected, however long a slow
 * client takes. Other processes' saves are recognised by their temp file's age: they keep writing to it.
 */
const inFlight = new Set<string>();
/**
 * Bytes a save may hold in memory while the disk catches up. While one write is on its way to the disk the next
 * chunks gather and go down together (writev): with a small buffer every socket chunk waits for its own write.
 */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Blobs as files named by their SHA-256 under `dir`. A write goes to a temp file, is fsynced, then renamed into
 * place and the directory fsynced: a crash leaves either no blob or the whole blob, never a torn one. Everything it
 * creates is private to the user running Quire (directories 0700, files 0600).
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;
  /** The free space writes must leave; none unless `keepFree` was called. */
  private freeSpace: FreeSpace | undefined;

  constructor(private readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
  }

  /**
   * Creates the folders, removes temp files that a crash left behind (untouched for an hour), and puts back blobs a
   * collection had taken out of place when its process died.
   */
  async init(): Promise<this> {
    await makePrivateDir(this.tmpDir);
    await this.collectTemp();
    await this.recoverClaims();
    return this;
  }

  /**
   * Refuse writes (507, before reading a byte) while free space on this store's disk is below `minFreeBytes`
   * (undefined: the default reserve, 0: never). Answers the monitor, for readiness checks.
   */
  keepFree(minFreeBytes?: number): FreeSpace {
    this.freeSpace = new FreeSpace(this.dir, minFreeBytes);
    return this.freeSpace;
  }

  /**
   * Removes temp files no save is writing any more: never one of a save in progress in this process, and only
   * those untouched for `staleMs` (a save in another process keeps touching its file). Answers their paths.
   */
  async collectTemp(staleMs = STALE_TEMP_MS): Promise<string[]> {
    const cutoff = Date.now() - staleMs;
    const removed: string[] = [];
    for (const entry of await readdir(this.tmpDir).catch(() => [] as string[])) {
      if (!entry.endsWith('.part')) continue;
      const path = join(this.tmpDir, entry);
      if (inFlight.has(path)) continue;
      const info = await stat(path).catch(() => null);
      // checked again after the await: a save may not start on an existing name ('wx'), but be exact anyway
      if (info && info.mtimeMs < cutoff && !inFlight.has(path)) {
        await rm(path, { force: true });
        removed.push(path);
      }
    }
    return removed;
  }

  /** Writes and removes a small file where saves write theirs: fails when the store cannot take a save. */
  async probe(): Promise<void> {
    // named like a save's temp file, so that a crash right here leaves nothing the collection would not remove
    const path = join(this.tmpDir, `${randomUUID()}.part`);
    inFlight.add(path);
    try {
      await writePrivateFile(path, 'quire', 'wx');
    } finally {
      await rm(path, { force: true });
      inFlight.delete(path);
    }
  }

  private pathOf(key: string): string {
    if (!BLOB_KEY.test(key)) throw new Error(`not a blob key: ${key}`);
    return join(this.dir, key.slice(0, 2), key.slice(2, 4), key);
  }

  async write(source: Readable): Promise<StoredBlob> {
    try {
      await this.freeSpace?.assertRoom();
    } catch (err) {
      // refused before reading: the source is given up, so whoever feeds it stops (a request body is then drained)
      source.destroy();
      throw err;
    }
    const tmp = join(this.tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      highWaterMark: WRITE_BUFFER_BYTES,
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    inFlight.add(tmp);
    try {
      await pipeline(
        source,
        measure,
        createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE_MODE, highWaterMark: WRITE_BUFFER_BYTES }),
      );
      await fsyncPath(tmp);
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      const folder = join(final, '..');
      await makePrivateDir(folder);
      // Same content, same name: renaming over an existing blob replaces it with identical bytes, in a new file
      // whose mtime is this write's (its last chunk, moments ago). That is what makes the write count as writing
      // the blob again for collection: see remove().
      await rename(tmp, final);
      await fsyncPath(folder);
      return { key: sha256, size, sha256 };
    } catch (err) {
      // nothing of a failed write stays behind; a full disk says so (507) instead of failing unexplained
      await rm(tmp, { force: true });
      throw asInsufficientStorage(err) ?? err;
    } finally {
      inFlight.delete(tmp);
    }
  }

  read(key: string): Readable {
    return createReadStream(this.pathOf(key));
  }

  async has(key: string): Promise<boolean> {
    try {
      await access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Every blob under the store's folders, with its size and mtime (when it was last written or touched). */
  async *list(): AsyncIterable<BlobEntry> {
    const hex2 = /^[0-9a-f]{2}$/;
    for (const a of (await entries(this.dir)).filter((n) => hex2.test(n))) {
      for (const b of (await entries(join(this.dir, a))).filter((n) => hex2.test(n))) {
        for (const key of await entries(join(this.dir, a, b))) {
          if (!BLOB_KEY.test(key) || !key.startsWith(a + b)) continue;
          const info = await stat(join(this.dir, a, b, key)).catch(() => null);
          if (info?.isFile()) yield { key, size: info.size, writtenAt: info.mtimeMs };
        }
      }
    }
  }

  async touch(key: string): Promise<boolean> {
    if (!BLOB_KEY.test(key)) return false;
    const now = new Date();
    try {
      await utimes(this.pathOf(key), now, now);
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Removes the blob if its mtime is before `writtenBefore`. Why this never takes bytes a save needs:
   *
   * Every new reference to a blob is made by a write (a save: temp file, then rename over the blob's name: a new
   * file with a fresh mtime) or a touch (a restore: utimes), and then a commit. Collection lists blobs, then reads
   * the references, then calls this for each old, unreferenced one. A reference committed before collection read
   * them is in what it read. One committed after was preceded by its write or touch; so the blob now under the
   * name has a fresh mtime, unless that write or touch came after this method took the blob away (then the write
   * puts a new file under the name, which this method never sees, and the touch fails, so the restore refuses
   * rather than commit a reference to nothing).
   *
   * Checking the mtime and then unlinking the name would leave a gap in which a save's rename could land, and the
   * unlink would take the save's new file. So the file is first renamed away to a claim in tmp/: one atomic step
   * that takes exactly the file under the name at that instant. Its mtime is then read from the claim: old, and no
   * write or touch reached that file before it was taken, so it goes; fresh, and it is put back (a hard link, which
   * never replaces a newer copy of the same bytes), then the claim removed.
   *
   * While a fresh blob is out of place, a read of it fails; that happens only when a save or restore of bytes that
   * nothing referenced for an hour lands in the instant between collection's listing and this rename, and the
   * bytes are back a moment later. A process that dies holding a claim leaves it in tmp/, and init() puts it back
   * (the next collection decides again). Ages compare this host's clock with the file system's mtimes, as temp
   * collection does; on a shared file system the hosts' clocks must agree to well within the grace period
   * (BLOB_GRACE_MS in blob-gc.ts).
   */
  async remove(key: string, writtenBefore: number): Promise<boolean> {
    if (!BLOB_KEY.test(key)) return false;
    const path = this.pathOf(key);
    const claim = join(this.tmpDir, `${key}.${randomUUID()}${CLAIM_SUFFIX}`);
    try {
      await rename(path, claim);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
    const info = await stat(claim).catch(() => null);
    // gone already: another process opening the store put it back (see recoverClaims)
    if (!info) return false;
    if (info.mtimeMs < writtenBefore) {
      await rm(claim, { force: true });
      return true;
    }
    await this.putBack(claim, path);
    return false;
  }

  /** Puts a claimed blob back under its name unless a copy is there already, durably; then drops the claim. */
  private async putBack(claim: string, path: string): Promise<void> {
    try {
      await link(claim, path);
      await fsyncPath(join(path, '..'));
    } catch (err) {
      const code = errorCode(err);
      // ENOENT: someone else put it back already; EEXIST: a save wrote the same bytes there meanwhile
      if (code === 'ENOENT') return;
      // a file system without hard links: the claim's bytes are the blob's bytes, so replacing is harmless
      if (code !== 'EEXIST') await rename(claim, path);
    }
    await rm(claim, { force: true });
  }

  /** Claims whose collection never finished (its process died) go back in place; the next collection decides. */
  private async recoverClaims(): Promise<void> {
    for (const entry of await entries(this.tmpDir)) {
      const key = entry.slice(0, 64);
      if (entry.endsWith(CLAIM_SUFFIX) && BLOB_KEY.test(key))
        await this.putBack(join(this.tmpDir, entry), this.pathOf(key));
    }
  }
}

const entries = (dir: string) => readdir(dir).catch(() => [] as string[]);
const errorCode = (err: unknown) => (err as { code?: unknown } | null)?.code;

/** fsync flushes the file (or directory entry list), whichever descriptor it is called on. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
