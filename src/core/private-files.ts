import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * The data dir holds password hashes, the signing key and everyone's documents: everything Quire creates there is
 * its owner's only (directories 0700, files 0600). Modes given at creation pass through the umask, which can only
 * take bits away; where Quire creates something, it sets the mode again with chmod, which the umask does not touch.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` and any missing parents as private directories; existing ones are left as they are. */
export async function makePrivateDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const first = await mkdir(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // every directory from `first` down to `target` is new
  for (let d = target; ; d = dirname(d)) {
    await chmod(d, PRIVATE_DIR_MODE);
    if (d === resolve(first) || dirname(d) === d) break;
  }
}

/** Writes `data` to `path` (replacing it), private to its owner. */
export async function writePrivateFile(path: string, data: string | Uint8Array, flag = 'w'): Promise<void> {
  await writeFile(path, data, { mode: PRIVATE_FILE_MODE, flag });
  await chmod(path, PRIVATE_FILE_MODE);
}

/** Creates `path` empty and private unless it exists. */
export async function ensurePrivateFile(path: string): Promise<void> {
  try {
    await writePrivateFile(path, '', 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** A path whose group and other permissions were taken away (or could not be: `error`), and the mode it had. */
export interface Tightened {
  path: string;
  was: string;
  error?: string;
}

/**
 * Takes group and other permissions away from `dir` and the entries directly in it (not deeper: without them on
 * `dir`, nobody else can reach what is below). Symbolic links are left alone; an entry that cannot be changed (owned
 * by someone else) is reported, not fatal. Answers what it changed or tried to.
 */
export async function tightenTopLevel(dir: string): Promise<Tightened[]> {
  const changed: Tightened[] = [];
  const tighten = async (path: string) => {
    const info = await lstat(path).catch(() => null);
    if (!info || info.isSymbolicLink() || (info.mode & 0o077) === 0) return;
    const was = (info.mode & 0o777).toString(8).padStart(4, '0');
    try {
      await chmod(path, info.mode & 0o700);
      changed.push({ path, was });
    } catch (err) {
      changed.push({ path, was, error: (err as NodeJS.ErrnoException).code ?? String(err) });
    }
  };
  await tighten(dir);
  for (const entry of await readdir(dir)) await tighten(join(dir, entry));
  return changed;
}
