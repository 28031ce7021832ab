import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { makeS3Client, type S3BlobOptions } from '../../src/storage/s3/index.ts';
import type { Scope } from './cleanup.ts';

/**
 * The S3 endpoint the `s3` group measures against, from QUIRE_BENCH_S3_*. Read when this module is loaded, which is
 * before run.ts takes every QUIRE_* variable out of the environment (so the servers get settings from their flags
 * only); undefined when QUIRE_BENCH_S3_ENDPOINT is not set, and the group is skipped.
 */
export const benchS3 = settingsFrom(process.env);

function settingsFrom(env: NodeJS.ProcessEnv): Omit<S3BlobOptions, 'prefix'> | undefined {
  const endpoint = env.QUIRE_BENCH_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = env.QUIRE_BENCH_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.QUIRE_BENCH_S3_SECRET_ACCESS_KEY;
  return {
    bucket: env.QUIRE_BENCH_S3_BUCKET || 'quire-bench',
    endpoint,
    region: env.QUIRE_BENCH_S3_REGION || 'us-east-1',
    forcePathStyle: env.QUIRE_BENCH_S3_PATH_STYLE !== '0',
    ...(accessKeyId && secretAccessKey && { credentials: { accessKeyId, secretAccessKey } }),
  };
}

let prefixes = 0;

/**
 * A prefix of its own in the bench bucket (created when missing) and a client with Quire's own client settings
 * (makeS3Client); everything under the prefix is deleted, and the client closed, when the scope ends.
 */
export async function benchBucket(
  scope: Scope,
  settings: Omit<S3BlobOptions, 'prefix'>,
): Promise<{ options: S3BlobOptions; client: S3Client }> {
  const options = { ...settings, prefix: `quire-bench-${process.pid}-${prefixes++}/` };
  const client = makeS3Client(options);
  scope.defer(async () => {
    await emptyPrefix(client, options.bucket, options.prefix);
    client.destroy();
  });
  await client.send(new CreateBucketCommand({ Bucket: options.bucket })).catch((err: Error) => {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)) throw err;
  });
  return { options, client };
}

async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) }),
    );
    await Promise.all(
      (page.Contents ?? []).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))),
    );
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** What a plain SDK user writes for a large body already in memory: lib-storage's defaults, 5 MiB parts, 4 at once. */
export const BARE_PART_BYTES = 5 * 1024 * 1024;
export const BARE_PARTS_AT_ONCE = 4;

/** A multipart upload of `body` (already in memory) with the SDK alone: the baseline for a large PutFile. */
export async function bareMultipartUpload(client: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const count = Math.ceil(body.length / BARE_PART_BYTES);
  const parts: CompletedPart[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const chunk = body.subarray(i * BARE_PART_BYTES, (i + 1) * BARE_PART_BYTES);
      const answer = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body: chunk,
          ContentLength: chunk.length,
        }),
      );
      parts[i] = { PartNumber: i + 1, ETag: answer.ETag };
    }
  };
  await Promise.all(Array.from({ length: BARE_PARTS_AT_ONCE }, worker));
  await client.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

/** One PutObject of a small body: the baseline for a small PutFile. */
export async function barePut(client: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
}

/** GetObject, the body hashed as it streams in (as getHashed does for Quire's GetFile). */
export async function bareGetHashed(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ size: number; sha256: string }> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of answer.Body as Readable) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}
