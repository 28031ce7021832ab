import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, StoredBlob } from './types.ts';

const STALE_TEMP_MS = 60 * 60 * 1000;
/**
 * Bytes a save may hold in memory while the disk catches up. While one write is on its way to the disk the next
 * chunks gather and go down together (writev): with a small buffer every socket chunk waits for its own write.
 */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Blobs as files named by their SHA-256 under `dir`. A write goes to a temp file, is fsynced, then renamed into
 * place and the directory fsynced: a crash leaves either no blob or the whole blob, never a torn one.
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;

  constructor(private readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
  }

  /** Creates the folders, and removes temp files that a crash left behind (untouched for an hour). */
  async init(): Promise<this> {
    await mkdir(this.tmpDir, { recursive: true });
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const entry of await readdir(this.tmpDir)) {
      if (!entry.endsWith('.part')) continue;
      const path = join(this.tmpDir, entry);
      const info = await stat(path).catch(() => null);
      // an upload in progress (another process on the same data dir) keeps touching its file
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
    return this;
  }

  private pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a blob key: ${key}`);
    return join(this.dir, key.slice(0, 2), key.slice(2, 4), key);
  }

  async write(source: Readable): Promise<StoredBlob> {
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
    try {
      await pipeline(
        source,
        measure,
        createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BUFFER_BYTES }),
      );
      await fsyncPath(tmp);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    const final = this.pathOf(sha256);
    const folder = join(final, '..');
    await mkdir(folder, { recursive: true });
    // Same content, same name: renaming over an existing blob replaces it with identical bytes.
    await rename(tmp, final);
    await fsyncPath(folder);
    return { key: sha256, size, sha256 };
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
