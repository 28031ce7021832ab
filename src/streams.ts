import { PassThrough, Readable } from 'node:stream';

/** A request body that grew past what the host accepts. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
  constructor(readonly limit: number) {
    super(`body is larger than this host's limit of ${limit} bytes`);
  }
}

async function* capped(source: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > max) throw new TooLargeError(max);
    yield chunk;
  }
}

/**
 * `source`, failing with TooLargeError once more than `max` bytes have passed (memory stays flat). Reads through a
 * pipe so that giving up early leaves `source` intact: a request stream destroyed here would take its socket, and
 * the 413 with it.
 */
export function limitBytes(source: Readable, max: number): Readable {
  const pass = new PassThrough();
  const fail = (err: Error) => pass.destroy(err);
  source.once('error', fail);
  source.once('aborted', () => fail(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' })));
  source.once('close', () => {
    if (!source.readableEnded) fail(Object.assign(new Error('request closed early'), { code: 'ECONNRESET' }));
  });
  source.pipe(pass);
  return Readable.from(capped(pass, max));
}
