import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../core/private-files.ts';

const MIN_SECRET_BYTES = 32;

/**
 * The key access tokens are signed with: QUIRE_SECRET when set, else `secret.key` in the data dir, created on first
 * use. Created with O_EXCL so a server and a CLI starting together end up with the same key.
 */
export async function loadSigningSecret(dataDir: string, env = process.env): Promise<Uint8Array> {
  const fromEnv = env.QUIRE_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    const bytes = new TextEncoder().encode(fromEnv);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new Error(`QUIRE_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`);
    }
    return bytes;
  }
  const path = join(dataDir, 'secret.key');
  try {
    await writePrivateFile(path, randomBytes(48).toString('base64url'), 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const stored = (await readFile(path, 'utf8')).trim();
  if (stored.length < MIN_SECRET_BYTES) throw new Error(`${path} is too short to be a signing key`);
  return new TextEncoder().encode(stored);
}
