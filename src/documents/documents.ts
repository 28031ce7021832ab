import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { conflict, QuireError } from '../core/errors.ts';
import type { Actor, FileRecord, FileState, NewEvent, Storage } from '../storage/types.ts';
import { FileNotFoundError } from '../storage/types.ts';
import { EVENT, type EventType } from './events.ts';
import { assertLegalName, illegalNameReason, nonClobberingNames, splitExtension } from './names.ts';

/**
 * What people do to documents outside the editor (CLI, web page, JSON API, integrators). Every change is a new
 * catalog state or version; nothing here overwrites bytes. Each writes its event, in the change's transaction, as
 * done by `actor`.
 */

const event = (type: EventType, actor: Actor, fileId: string, details?: Record<string, unknown>): NewEvent => ({
  type,
  fileId,
  ...actor,
  ...(details && { details }),
});

/**
 * Adds a document to the catalog. An illegal name is refused (NameError); a taken one becomes "name (n).ext".
 */
export async function importFile(
  storage: Storage,
  clock: Clock,
  input: {
    source: Readable;
    name: string;
    ownerId: string;
    /** Who adds it (the owner unless said); `how` says by which way: 'import', 'upload', 'template'. */
    actor?: Actor;
    how?: string;
  },
): Promise<FileRecord> {
  const name = input.name.normalize('NFC');
  assertLegalName(name);
  const blob = await storage.blobs.write(input.source);
  const actor = input.actor ?? { userId: input.ownerId };
  return storage.catalog.createFile({
    names: nonClobberingNames(name),
    ownerId: input.ownerId,
    version: { blob, authorId: input.ownerId, source: 'import' },
    now: clock.now(),
    event: (file) =>
      event(EVENT.created, actor, file.id, { name: file.name, version: file.version, how: input.how ?? 'import' }),
  });
}

const noSuchDocument = () => new QuireError(404, 'no such document');

/** Changes made from outside the editor wait until no editor holds the file. */
function assertNotInEditor(state: FileState): void {
  if (state.lock) {
    throw conflict('the document is open in an editor; try again when it has been closed');
  }
}

async function withFile<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FileNotFoundError) throw noSuchDocument();
    throw err;
  }
}

/** Renames a document. A name without extension keeps the current one; a taken name becomes "name (n).ext". */
export async function renameDocument(
  storage: Storage,
  clock: Clock,
  fileId: string,
  wanted: string,
  actor: Actor,
): Promise<FileRecord> {
  const file = await storage.catalog.getFile(fileId);
  if (!file) throw noSuchDocument();
  let name = wanted.normalize('NFC').trim();
  const currentExt = splitExtension(file.name).ext;
  if (currentExt && !splitExtension(name).ext) name += currentExt;
  const reason = illegalNameReason(name);
  if (reason) throw new QuireError(400, `invalid name: ${reason}`);
  return withFile(() =>
    storage.catalog.renameFile(fileId, nonClobberingNames(name), clock.now(), assertNotInEditor, ({ before, after }) =>
      event(EVENT.renamed, actor, fileId, { from: before.name, to: after.name }),
    ),
  );
}

export async function deleteDocument(storage: Storage, clock: Clock, fileId: string, actor: Actor): Promise<void> {
  await withFile(() =>
    storage.catalog.deleteFile(fileId, clock.now(), assertNotInEditor, (file) =>
      event(EVENT.deleted, actor, fileId, { name: file.name }),
    ),
  );
}

/** Bytes already stored (an earlier version, a rescued save) become the newest version, as a new version. */
async function restoreBytes(
  storage: Storage,
  clock: Clock,
  input: { fileId: string; userId: string; actor?: Actor | undefined },
  saved: { blobKey: string; size: number; sha256: string },
  details: Record<string, unknown>,
): Promise<FileRecord> {
  const actor = input.actor ?? { userId: input.userId };
  const blob = { key: saved.blobKey, size: saved.size, sha256: saved.sha256 };
  // The new version references bytes it did not write: touched first, so that blob GC, which may have found them
  // unreferenced (the version was thinned, the rescued save forgotten, since it was read), keeps them. Gone
  // already: refused, rather than a version without bytes.
  if (!(await storage.blobs.touch(blob.key))) throw new QuireError(404, 'the bytes of that save are no longer stored');
  return withFile(() =>
    storage.catalog.commitVersion(
      input.fileId,
      { blob, authorId: input.userId, source: 'restore' },
      clock.now(),
      assertNotInEditor,
      (file) => event(EVENT.restored, actor, file.id, { version: file.version, ...details }),
    ),
  );
}

/** Makes a rescued save (a refused save Quire kept) the newest version. */
export async function restoreRescued(
  storage: Storage,
  clock: Clock,
  input: { fileId: string; rescuedId: number; userId: string; actor?: Actor },
): Promise<FileRecord> {
  const rescued = await storage.catalog.getRescued(input.fileId, input.rescuedId);
  if (!rescued) throw new QuireError(404, 'no such rescued save');
  return restoreBytes(storage, clock, input, rescued, { rescued: rescued.id });
}

/** Makes an earlier version the current one, as a new version (history is never rewritten). */
export async function restoreVersion(
  storage: Storage,
  clock: Clock,
  input: { fileId: string; version: number; userId: string; actor?: Actor },
): Promise<FileRecord> {
  const old = await storage.catalog.getVersion(input.fileId, input.version);
  if (!old) throw new QuireError(404, 'no such version');
  return restoreBytes(storage, clock, input, old, { from: input.version });
}
