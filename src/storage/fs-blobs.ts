import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asInsufficientStorage } from '../core/errors.ts';
import { makePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from '../core/private-files.ts';
import { FreeSpace } from './free-space.ts';
import type { BlobStore, StoredBlob } from './types.ts';

/** A temp file untouched this long belongs to no save in progress, in this process or another. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
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

  /** Creates the folders, and removes temp files that a crash left behind (untouched for an hour). */
  async init(): Promise<this> {
    await makePrivateDir(this.tmpDir);
    await this.collectTemp();
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
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a blob key: ${key}`);
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
      // Same content, same name: renaming over an existing blob replaces it with identical bytes.
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
}

/** fsync flushes the file (or directory entry list), whichever descriptor it is called on. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
