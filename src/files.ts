import type { Readable } from 'node:stream';
import type { Clock } from './clock.ts';
import type { FileRecord, Storage } from './storage/types.ts';
import { assertLegalName, nonClobberingNames } from './wopi/names.ts';

/**
 * Adds a document to the catalog (CLI `quire add`, the web page's upload, integrators). An illegal name is refused
 * (NameError); a taken one becomes "name (n).ext".
 */
export async function importFile(
  storage: Storage,
  clock: Clock,
  input: { source: Readable; name: string; ownerId: string },
): Promise<FileRecord> {
  const name = input.name.normalize('NFC');
  assertLegalName(name);
  const blob = await storage.blobs.write(input.source);
  return storage.catalog.createFile({
    names: nonClobberingNames(name),
    ownerId: input.ownerId,
    version: { blob, authorId: input.ownerId, source: 'import' },
    now: clock.now(),
  });
}
