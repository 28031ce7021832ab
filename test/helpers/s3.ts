import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { makeS3Client, type S3BlobOptions, S3BlobStore } from '../../src/storage/s3/index.ts';

/**
 * The S3 endpoint the tests use: a real S3-compatible service, never a stand-in (CI starts a one-node Ceph RGW with
 * ../shared/s3/ceph-rgw.sh and exports its settings as QUIRE_TEST_S3_*). Without QUIRE_TEST_S3_ENDPOINT the S3
 * tests are skipped with a message; with QUIRE_TEST_REQUIRE_S3=1 they fail instead.
 */
const env = process.env;
export const TEST_S3_BUCKET = env.QUIRE_TEST_S3_BUCKET || 'quire-test';

/** Options for a store under `prefix` in the test bucket (every test uses a prefix of its own). */
export function testS3Options(prefix: string): S3BlobOptions {
  return {
    bucket: TEST_S3_BUCKET,
    ...(env.QUIRE_TEST_S3_ENDPOINT && { endpoint: env.QUIRE_TEST_S3_ENDPOINT }),
    region: env.QUIRE_TEST_S3_REGION || 'us-east-1',
    prefix,
    forcePathStyle: env.QUIRE_TEST_S3_PATH_STYLE !== 'false',
    ...(env.QUIRE_TEST_S3_ACCESS_KEY_ID &&
      env.QUIRE_TEST_S3_SECRET_ACCESS_KEY && {
        credentials: {
          accessKeyId: env.QUIRE_TEST_S3_ACCESS_KEY_ID,
          secretAccessKey: env.QUIRE_TEST_S3_SECRET_ACCESS_KEY,
        },
      }),
  };
}

/** Why there is no S3 to test against, or null when the test bucket answers (created when missing). */
async function whyS3Unreachable(): Promise<string | null> {
  if (!env.QUIRE_TEST_S3_ENDPOINT) return 'no S3 endpoint configured (QUIRE_TEST_S3_ENDPOINT; see .ci/run)';
  const client = makeS3Client(testS3Options(''));
  // bounded: a service that takes the connection and never answers is as good as absent
  const abortSignal = AbortSignal.timeout(30_000);
  try {
    // created only when missing: on a busy Ceph RGW a CreateBucket of an existing bucket has been seen to hang
    const missing = await client
      .send(new ListObjectsV2Command({ Bucket: TEST_S3_BUCKET, MaxKeys: 1 }), { abortSignal })
      .then(
        () => false,
        (err: Error) => {
          if (err.name === 'NoSuchBucket') return true;
          throw err;
        },
      );
    if (missing) {
      await client.send(new CreateBucketCommand({ Bucket: TEST_S3_BUCKET }), { abortSignal }).catch((err: Error) => {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)) throw err;
      });
    }
    return null;
  } catch (err) {
    return `${env.QUIRE_TEST_S3_ENDPOINT} does not answer: ${err instanceof Error ? err.message || err.name : err}`;
  } finally {
    client.destroy();
  }
}

const s3Problem = await whyS3Unreachable();
// CI sets this so the S3 runs can never be skipped without anyone noticing.
if (s3Problem !== null && env.QUIRE_TEST_REQUIRE_S3 === '1') {
  throw new Error(`QUIRE_TEST_REQUIRE_S3=1 but ${s3Problem}`);
}
/** True when the S3 tests run (the test bucket answered). */
export const s3Available = s3Problem === null;
/** `describe`/`it` options that skip a test needing S3, saying why. */
export const needsS3: { skip?: string } = s3Problem === null ? {} : { skip: `S3 tests skipped: ${s3Problem}` };

/** A prefix in the test bucket derived from a (unique, temporary) dir, so a peer opened on the dir finds it. */
export const s3PrefixFor = (dir: string) =>
  `quire-test-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}/`;

/** An S3 blob store under `prefix` in the test bucket, with a client of its own (closed by its close()). */
export const openTestS3Blobs = (prefix: string) => {
  const options = testS3Options(prefix);
  return new S3BlobStore(makeS3Client(options), options);
};

/** Every object key under `prefix`, and every unfinished multipart upload there. */
export async function s3ObjectsUnder(prefix: string): Promise<{ objects: string[]; uploads: string[] }> {
  const client = makeS3Client(testS3Options(''));
  try {
    const objects: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: TEST_S3_BUCKET,
          Prefix: prefix,
          ...(token && { ContinuationToken: token }),
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) objects.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: TEST_S3_BUCKET, Prefix: prefix }));
    return { objects: objects.sort(), uploads: (uploads.Uploads ?? []).map((u) => `${u.Key} (${u.UploadId})`) };
  } finally {
    client.destroy();
  }
}

/** Deletes everything under `prefix` (objects and unfinished uploads): a test's cleanup. */
export async function emptyS3Prefix(prefix: string): Promise<void> {
  if (!prefix) throw new Error('refusing to empty the whole test bucket');
  const client = makeS3Client(testS3Options(''));
  try {
    const { objects } = await s3ObjectsUnder(prefix);
    for (const key of objects) await client.send(new DeleteObjectCommand({ Bucket: TEST_S3_BUCKET, Key: key }));
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: TEST_S3_BUCKET, Prefix: prefix }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: TEST_S3_BUCKET, Key: u.Key, UploadId: u.UploadId }));
    }
  } finally {
    client.destroy();
  }
}
