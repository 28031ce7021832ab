/**
 * Blobs in an S3-compatible bucket, for Quire instances that share no disk: the catalog stays in SQLite or
 * PostgreSQL. The only place that talks to the AWS SDK.
 */
export { openS3BlobStore, S3BlobStore } from './blob-store.ts';
export { makeS3Client, type S3BlobOptions } from './client.ts';
