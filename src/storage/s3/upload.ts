import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** A part of a multipart upload: S3's smallest (every part but the last must be at least this). */
export const PART_BYTES = 5 * 1024 * 1024;
/** Parts on their way to the service at once, while the next one fills. */
const PARTS_IN_FLIGHT = 2;

/** What uploadStreamed() tells its caller on the way, and how it sends. */
export interface StreamedUploadHooks {
  /** Every chunk of the source, in order (the caller's hash). */
  seen: (chunk: Buffer) => void;
  /**
   * Bytes that fit in one part are handed here instead of being PUT to the key: the caller stores them itself,
   * knowing their hash by then.
   */
  whole?: (body: Buffer) => Promise<void>;
  /**
   * Called once the source has ended, when more than one part was needed, while the last parts are still on their
   * way and before the upload is completed: the caller's hash is final, so work that waits on it (the stamp) runs
   * alongside the upload's tail instead of after it.
   */
  ended?: () => void;
  /**
   * Send each part with an unsigned payload (`x-amz-content-sha256: UNSIGNED-PAYLOAD`) rather than the SHA-256 of
   * its bytes, which the SDK would compute on this thread for the signature (as many CPU cycles again as the
   * caller's own hash). Only where the connection itself protects the bytes (TLS): see S3BlobStore.
   */
  unsignedPayload?: boolean;
}

/**
 * Streams `source` into the object `key`, handing every chunk to `hooks.seen` on the way (the hash). Bytes that fit
 * in one part go as one PutObject, or to `hooks.whole` when given; more go as a multipart upload, aborted when
 * anything fails, so a failed upload leaves no object (an upload whose process dies is left to collection).
 *
 * Memory is a fixed pool of PARTS_IN_FLIGHT + 1 part buffers, reused as parts complete, whatever the object's size.
 * (lib-storage's Upload was tried first: it concatenates each part into a fresh buffer, and with V8 collecting such
 * external memory lazily a 64 MiB write held 14 to 64 MiB, over the BlobStore contract's bound. Reused buffers hold
 * 15 MiB, flat.) A buffer is reused only once its UploadPart has answered, so the SDK's retries re-send intact bytes.
 */
export async function uploadStreamed(
  client: S3Client,
  bucket: string,
  key: string,
  source: Readable,
  hooks: StreamedUploadHooks,
): Promise<void> {
  const { seen, whole, ended, unsignedPayload } = hooks;
  const free: Buffer[] = [];
  let allocated = 0;
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let uploadId: string | undefined;
  let failure: { error: unknown } | undefined;

  /** A part buffer: a free one, a new one while the pool is not full, else the first to come back. */
  const takeBuffer = async (): Promise<Buffer> => {
    while (!failure && free.length === 0 && allocated > PARTS_IN_FLIGHT && inFlight.size > 0)
      await Promise.race(inFlight);
    if (failure) throw failure.error;
    const reused = free.pop();
    if (reused) return reused;
    allocated++;
    return Buffer.allocUnsafe(PART_BYTES);
  };

  const sendPart = async (buffer: Buffer, length: number): Promise<void> => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    const PartNumber = parts.length + 1;
    const part: CompletedPart = { PartNumber };
    parts.push(part);
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber,
      Body: buffer.subarray(0, length),
      ContentLength: length,
    });
    if (unsignedPayload) withUnsignedPayload(command);
    const sending = client
      .send(command)
      .then(
        (answer) => {
          part.ETag = answer.ETag;
          free.push(buffer);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  let current: Buffer | undefined;
  let filled = 0;
  try {
    for await (const data of source) {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array);
      seen(chunk);
      let offset = 0;
      while (offset < chunk.length) {
        current ??= await takeBuffer();
        const n = chunk.copy(current, filled, offset);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) {
          await sendPart(current, filled);
          current = undefined;
          filled = 0;
        }
      }
      if (failure) throw failure.error;
    }
    if (uploadId === undefined) {
      // one part or less: a plain PUT of a known length
      const body = current ? current.subarray(0, filled) : Buffer.alloc(0);
      if (whole) return await whole(body);
      const put = new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length });
      if (unsignedPayload) withUnsignedPayload(put);
      await client.send(put);
      return;
    }
    ended?.();
    if (current && filled > 0) await sendPart(current, filled);
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    // the answer's ETag is not used: some services (Ceph RGW 16) send it empty
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
    }
    throw err;
  }
}

/**
 * Has the SDK sign `command` without hashing its body: SigV4 signs whatever x-amz-content-sha256 the request already
 * carries, and UNSIGNED-PAYLOAD is the value S3 (AWS and the compatible services) accepts for "not hashed".
 */
export function withUnsignedPayload(command: UploadPartCommand | PutObjectCommand): void {
  const options = { step: 'build', name: 'quireUnsignedPayload' } as const;
  if (command instanceof UploadPartCommand) command.middlewareStack.add(unsignedPayload, options);
  else command.middlewareStack.add(unsignedPayload, options);
}

const unsignedPayload =
  <A extends { request: unknown }, R>(next: (args: A) => R) =>
  (args: A): R => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    return next(args);
  };
