import { randomBytes } from 'node:crypto';
import { renameSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { BlobStore } from '../../../src/index.ts';

/** Temp files the copies are written to, in the folder itself so that the rename into place is atomic. */
const TEMP_PREFIX = '.head-';
/** A temp file untouched this long belongs to a copy that died (another process's live copy is younger). */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** A name that can be a file directly in the folder: one path segment the file system takes (255 bytes at most). */
export const fitsFolder = (name: string) =>
  name !== '' &&
  name !== '.' &&
  name !== '..' &&
  !/[/\\]/.test(name) &&
  !name.includes('\u0000') &&
  !name.startsWith(TEMP_PREFIX) &&
  Buffer.byteLength(name, 'utf8') <= 255;

interface MirrorRow {
  name: string;
  version: number;
  deleted_at: number | null;
  mirrored_name: string | null;
  mirrored_version: number | null;
  blob_key: string;
}

/**
 * The folder the rest of the app reads: `files/<name>` holds each live document's newest version, byte for byte.
 *
 * Quire hands a save's bytes to the BlobStore before the catalog knows which document they belong to (the blob store
 * is content-addressed, by design: a refused save leaves nothing in place). So the folder is a projection the
 * catalog keeps after each commit: the head's blob is copied to a temp file beside its place, then, in a short
 * transaction that checks the head is still that version under that name, renamed into place, the old name removed,
 * and the documents row told what the folder now holds. A crash between a commit and this step is finished by
 * `reconcile()` on the next open.
 */
export class HeadFiles {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly blobs: BlobStore,
    readonly dir: string,
    /** Told when the folder could not be brought up to date; the next open's reconcile() tries again. */
    private readonly onError: (err: unknown, documentId: string) => void,
  ) {
    this.q = {
      row: db.prepare(
        `SELECT d.name, d.version, d.deleted_at, d.mirrored_name, d.mirrored_version, v.blob_key
         FROM documents d JOIN versions v ON v.document_id = d.id AND v.number = d.version WHERE d.id = ?`,
      ),
      // a name another live document holds (or whose bytes the folder shows under it) is not ours to remove
      heldByAnother: db.prepare(
        'SELECT 1 FROM documents WHERE id != ? AND deleted_at IS NULL AND (name = ? OR mirrored_name = ?)',
      ),
      mark: db.prepare('UPDATE documents SET mirrored_name = ?, mirrored_version = ? WHERE id = ?'),
      behind: db.prepare(
        `SELECT id FROM documents WHERE (deleted_at IS NULL AND (mirrored_name IS NOT name OR mirrored_version IS NOT version))
           OR (deleted_at IS NOT NULL AND mirrored_name IS NOT NULL)`,
      ),
    };
  }

  /**
   * Brings `files/` up to date for one document: its head under its name, nothing under a name it left. Never
   * throws: the change it follows is committed already, and its caller must hear that it was.
   */
  async sync(id: string): Promise<void> {
    try {
      await this.bringUpToDate(id);
    } catch (err) {
      this.onError(err, id);
    }
  }

  private async bringUpToDate(id: string): Promise<void> {
    // a change that lands meanwhile syncs again itself; three tries only cover a busy moment
    for (let attempt = 0; attempt < 3; attempt++) {
      const seen = this.q.row.get(id) as MirrorRow | undefined;
      if (!seen) return;
      const live = seen.deleted_at === null;
      if (live ? seen.mirrored_name === seen.name && seen.mirrored_version === seen.version : !seen.mirrored_name) {
        return;
      }
      const temp = live ? await this.copyOut(seen.blob_key) : null;
      const placed = this.db
        .transaction(() => {
          const now = this.q.row.get(id) as MirrorRow | undefined;
          const unchanged =
            now?.name === seen.name &&
            now.version === seen.version &&
            now.deleted_at === seen.deleted_at &&
            now.mirrored_name === seen.mirrored_name;
          if (!unchanged) return false;
          if (temp) renameSync(temp, join(this.dir, seen.name));
          const old = seen.mirrored_name;
          const left = old !== null && (!live || old !== seen.name);
          if (left && !this.q.heldByAnother.get(id, old, old)) {
            // on a file system that ignores case, 'a.docx' renamed 'A.docx' is the same file: keep it
            if (!(live && sameFile(join(this.dir, old), join(this.dir, seen.name)))) removeQuietly(join(this.dir, old));
          }
          this.q.mark.run(live ? seen.name : null, live ? seen.version : null, id);
          return true;
        })
        .immediate();
      if (placed) {
        if (temp) await syncDir(this.dir);
        return;
      }
      if (temp) await rm(temp, { force: true });
    }
  }

  /** Finishes what crashed processes left: heads not yet in the folder, deleted documents still in it, temp files. */
  async reconcile(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const entry of await readdir(this.dir)) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      const path = join(this.dir, entry);
      const info = await stat(path).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
    for (const { id } of this.q.behind.all() as Array<{ id: string }>) await this.sync(id);
  }

  /** Copies the blob to a new temp file in the folder, on disk when it resolves. */
  private async copyOut(key: string): Promise<string> {
    const temp = join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const handle = await open(temp, 'wx', 0o644);
    try {
      for await (const chunk of this.blobs.read(key)) await handle.write(chunk as Buffer);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    return temp;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The rename is durable once the directory is. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
