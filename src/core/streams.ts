import { PassThrough, Readable } from 'node:stream';
import { IncompleteBodyError, TooLargeError } from './errors.ts';

/**
 * The one byte limit for request bodies, and the one capped reader. Every body Quire reads (a save, an upload, a
 * JSON or form body, PutUserInfo) goes through here, so the limit and its refusal are written once.
 */

export interface BodyLimit {
  /** Most bytes accepted. */
  max: number;
  /** What the client said it will send (Content-Length, X-WOPI-Size), checked before anything is read. */
  declared?: number | undefined;
  /** The refusal for a body over `max`; a TooLargeError by default. */
  tooLarge?: () => Error;
}

const refusalOf = (limit: BodyLimit) => limit.tooLarge?.() ?? new TooLargeError(limit.max);

async function* capped(source: AsyncIterable<Buffer>, limit: BodyLimit): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > limit.max) throw refusalOf(limit);
    yield chunk;
  }
}

const connectionLost = (message: string) => Object.assign(new Error(message), { code: 'ECONNRESET' });

/**
 * `source`, failing once more than `limit.max` bytes have passed (memory stays flat), or at once when the declared
 * size is already over. Reads through a pipe so that giving up early leaves `source` intact: a request stream
 * destroyed here would take its socket, and the 413 with it.
 */
export function limitBytes(source: Readable, limit: BodyLimit): Readable {
  if ((limit.declared ?? 0) > limit.max) throw refusalOf(limit);
  const pass = new PassThrough();
  const fail = (err: Error) => pass.destroy(err);
  source.once('error', fail);
  source.once('aborted', () => fail(connectionLost('request aborted')));
  source.once('close', () => {
    if (!source.readableEnded) fail(connectionLost('request closed early'));
  });
  source.pipe(pass);
  return Readable.from(capped(pass, limit));
}

/** Reads a small body whole (a JSON or form body, PutUserInfo), refusing one over `limit.max`. */
export async function readCapped(source: Readable, limit: BodyLimit): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of limitBytes(source, limit) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** True when a stream failed because its client went away, not because of what it sent. */
export function isConnectionLoss(err: unknown, source?: Readable): boolean {
  return source?.destroyed === true || (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET';
}

/** Maps a lost connection during a body read to the refusal a client (if still there) can read. */
export function asBodyError(err: unknown, source?: Readable): unknown {
  if (err instanceof TooLargeError) return err;
  return isConnectionLoss(err, source) ? new IncompleteBodyError() : err;
}
