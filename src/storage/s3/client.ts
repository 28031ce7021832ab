import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** Where the bytes live when they live in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO, Garage …). */
export interface S3BlobOptions {
  bucket: string;
  /** The service's URL, e.g. http://127.0.0.1:7480; default: AWS S3 in `region`. */
  endpoint?: string;
  /** Default us-east-1 (what most S3-compatible services expect when they have no regions). */
  region?: string;
  /**
   * Keys start with this (e.g. "quire/"), so one bucket can hold several Quires or other data; a "/" is added when
   * missing. Default: none, the bucket's root.
   */
  prefix?: string;
  /**
   * Where editors reach the service, when not at `endpoint` (e.g. Quire talks to http://rgw:7480 on a private
   * network, editors to https://s3.example.com): the URLs handed out as CheckFileInfo's FileUrl are signed for this
   * address. A presigned URL's signature covers its host, so it cannot be rewritten after signing; a proxy between
   * editors and the service must pass the Host header through unchanged. Default: `endpoint`.
   */
  publicEndpoint?: string;
  /** Address the bucket as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT (most self-hosted services need this). */
  forcePathStyle?: boolean;
  /** Default: the SDK's usual chain (AWS_ACCESS_KEY_ID …, ~/.aws, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The key prefix `options` asks for, '' or ending in '/'. */
export function keyPrefix(options: S3BlobOptions): string {
  const prefix = (options.prefix ?? '').replace(/^\/+/, '');
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

export function makeS3Client(options: S3BlobOptions): S3Client {
  return new S3Client({
    region: options.region || 'us-east-1',
    ...(options.endpoint && { endpoint: options.endpoint }),
    ...(options.forcePathStyle && { forcePathStyle: true }),
    ...(options.credentials && { credentials: options.credentials }),
    // From 3.729 the SDK sends streamed bodies aws-chunked with a trailing CRC32 unless told otherwise, and several
    // S3-compatible services (Ceph RGW among them) answer that with 411. The SHA-256 Quire computes is its check.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The HTTP status of an S3 error, or undefined for anything else (a refused connection …). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode;
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** No such object (or no such key to copy from): 404, whatever name the service gives it. */
export const isNotFound = (err: unknown) =>
  statusOf(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as Error | null)?.name ?? '');

/** The bucket's owner ran out of quota: the 507 of a full disk, on S3. */
export const isOverQuota = (err: unknown) => (err as Error | null)?.name === 'QuotaExceeded';
