import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { IncompleteBodyError, QuireError, TooLargeError } from './errors.ts';

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

const connectionLost = (message: string) => Object.assign(new Error(message), { code: 'ECONNRESET' });

/** Passes bytes through until more than `limit.max` have passed, then fails with the limit's refusal. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: BodyLimit) {
    // room for a few socket chunks, so the socket keeps flowing while the next stage is busy
    super({ highWaterMark: 1024 * 1024 });
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit.max) done(refusalOf(this.limit));
    else done(null, chunk);
  }
}

/**
 * `source`, failing once more than `limit.max` bytes have passed (memory stays flat), or at once when the declared
 * size is already over. `source` is piped, not consumed through a pipeline, so that giving up early leaves it
 * intact: a request stream destroyed here would take its socket, and the 413 with it.
 */
export function limitBytes(source: Readable, limit: BodyLimit): Readable {
  if ((limit.declared ?? 0) > limit.max) throw refusalOf(limit);
  const limited = new ByteLimit(limit);
  const fail = (err: Error) => limited.destroy(err);
  source.once('error', fail);
  source.once('aborted', () => fail(connectionLost('request aborted')));
  source.once('close', () => {
    if (!source.readableEnded) fail(connectionLost('request closed early'));
  });
  limited.once('error', () => source.unpipe(limited));
  return source.pipe(limited);
}

/** Reads a small body whole (a JSON or form body, PutUserInfo), refusing one over `limit.max`. */
export async function readCapped(source: Readable, limit: BodyLimit): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of limitBytes(source, limit) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * True when a stream failed because its client went away, not because of what it sent. A body read to its end is
 * destroyed too (auto-destroy), which is no loss: the write it fed may have failed on its own (a full disk).
 */
export function isConnectionLoss(err: unknown, source?: Readable): boolean {
  if (source?.destroyed === true && !source.readableEnded) return true;
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET';
}

/** Maps a lost connection during a body read to the refusal a client (if still there) can read. */
export function asBodyError(err: unknown, source?: Readable): unknown {
  // a refusal already (over the limit, no room on the disk) stays what it is
  if (err instanceof QuireError) return err;
  return isConnectionLoss(err, source) ? new IncompleteBodyError() : err;
}
