import { QuireError } from '../core/errors.ts';
import type { NewRescuedSave, StoredBlob } from '../storage/types.ts';
import type { WopiHost, WopiRequest } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { receiveBody } from './file-state.ts';
import { H } from './headers.ts';

/**
 * Refused saves are kept, so no edit is ever lost. When a save is refused for a reason a person can act on — the
 * file is locked by someone else, it changed since the editor read it, its lock expired — the body is still read
 * to its end and kept beside the file as a rescued save (see Catalog.rescue), and the client gets exactly the
 * refusal the protocol demands. A body that cannot be kept (too large, cut short, empty) is not; the refusal stands.
 */

/**
 * Refusals that cost someone an edit: the lock conflicts of the save rules (409 carrying X-WOPI-Lock, Collabora's
 * "changed in storage" among them). Not malformed requests, and not PutRelativeFile's "that name exists", which
 * the client answers by sending the body again under the name Quire offered.
 */
const isRescuable = (err: unknown): err is QuireError =>
  err instanceof QuireError && err.status === 409 && H.lock in err.headers;

type SaveShape = Omit<NewRescuedSave, 'blob' | 'reason'>;

async function keep(host: WopiHost, req: WopiRequest, blob: StoredBlob, reason: string, shape: SaveShape) {
  if (blob.size === 0) return;
  await host.storage.catalog.rescue(req.fileId, { ...shape, blob, reason }, host.clock.now(), (saved) =>
    eventOf(req, EVENT.rescued, {
      rescued: saved.id,
      reason,
      size: saved.size,
      ...(shape.lock && { lock: shape.lock }),
    }),
  );
}

/**
 * Answers a refusal that came before the body was read: for a rescuable one, reads and keeps the body first. Always
 * throws the refusal as it was.
 */
export async function refuseKeepingBody(
  host: WopiHost,
  req: WopiRequest,
  refusal: unknown,
  shape: SaveShape,
  declaredSize?: number,
): Promise<never> {
  if (isRescuable(refusal)) {
    try {
      await keep(host, req, await receiveBody(host, req, declaredSize), refusal.message, shape);
    } catch (err) {
      // the body could not be kept (too large, cut short): the client still gets the refusal it caused
      req.body.resume();
      if (!(err instanceof QuireError)) throw err;
    }
  }
  throw refusal;
}

/** Answers a refusal that came after the body was stored (the file changed while it arrived): keeps it. */
export async function refuseKeepingBlob(
  host: WopiHost,
  req: WopiRequest,
  refusal: unknown,
  blob: StoredBlob,
  shape: SaveShape,
): Promise<never> {
  if (isRescuable(refusal)) await keep(host, req, blob, refusal.message, shape);
  throw refusal;
}
