import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { InsufficientStorageError } from '../../core/errors.ts';
import { BLOB_GRACE_MS } from '../blob-gc.ts';
import { STALE_TEMP_MS } from '../fs-blobs.ts';
import type { BlobEntry, BlobStore, StoredBlob } from '../types.ts';
import { isNotFound, isOverQuota, keyPrefix, makeS3Client, type S3BlobOptions } from './client.ts';
import { uploadStreamed, withUnsignedPayload } from './upload.ts';

const BLOB_KEY = /^[0-9a-f]{64}$/;
/**
 * An unfinished multipart upload this old belongs to no save in progress (a save keeps one open while its client
 * sends; a day is far beyond any client's patience). Completed temp objects live only for the copy into place, so
 * those go after STALE_TEMP_MS, like the file store's temp files.
 */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;
/** Temp objects of saves in progress in this process: never collected, however long a slow client takes. */
const inFlight = new Set<string>();

/**
 * Blobs as objects in an S3 bucket, named by their SHA-256, under the store's prefix:
 *
 *   blobs/<sha256>          the bytes
 *   tmp/<uuid>              a save's upload, until its hash is known and it is copied into place
 *   fresh/<sha256>/<uuid>   one empty stamp per write or touch, made just before it (see remove())
 *   gc/<sha256>.<uuid>      a copy a removal holds while it decides (see remove())
 *
 * A write streams into a multipart upload of a temp object (upload.ts), hashing as it goes, so memory stays flat;
 * only once the upload is complete is it copied (server-side) to its content-addressed key: a reader, or the
 * catalog, never sees a partial object, and a failed write leaves at most a temp object or an unfinished upload that
 * collectTemp() removes. A write of one part or less (5 MiB) is whole in memory before anything is sent, its hash
 * known: it goes straight to its key in one PutObject (which S3 makes visible whole or not at all), two requests
 * (stamp, put) instead of four (put, stamp, copy, delete): a CopyObject costs Ceph RGW about 60 ms whatever the size.
 * A larger write's stamp is sent as soon as its body has ended (the hash is final then), alongside the upload's last
 * parts, and awaited before the copy.
 *
 * Why not spool the body to a local file and upload it straight to its key, with no temp object and no copy: the
 * upload could start only once the whole body is in and hashed, so receiving and uploading would no longer overlap.
 * Measured on a Ceph RGW (whose CopyObject shares the data, 60 ms for 64 MiB) that cost more than the copy it saves;
 * bench/README.md has the figures. Ages are the objects' LastModified: the service's clock, in milliseconds as
 * listings give it (HeadObject's Last-Modified has only seconds, so ages are always read from a listing).
 */
export class S3BlobStore implements BlobStore {
  private readonly prefix: string;
  private readonly bucket: string;
  /**
   * Uploads skip the SDK's SHA-256 of each body for the signature when the connection is TLS (AWS S3 by default, or
   * an https endpoint): TLS already guards the bytes on the way, and that hash costs as much CPU again as Quire's
   * own SHA-256 of the content. Over plain http the payload hash is the only check the service makes that the bytes
   * arrived as sent, so it stays.
   */
  private readonly unsignedPayload: boolean;

  /**
   * `signer` signs the URLs urlFor() hands out: a client for the address editors reach the bucket at
   * (S3BlobOptions.publicEndpoint), which sends no request; by default `client` itself.
   */
  constructor(
    private readonly client: S3Client,
    options: Pick<S3BlobOptions, 'bucket' | 'prefix' | 'endpoint'>,
    private readonly signer: S3Client = client,
  ) {
    this.bucket = options.bucket;
    this.prefix = keyPrefix(options);
    this.unsignedPayload = options.endpoint === undefined || /^https:/i.test(options.endpoint);
  }

  private blobKey(key: string): string {
    if (!BLOB_KEY.test(key)) throw new Error(`not a blob key: ${key}`);
    return `${this.prefix}blobs/${key}`;
  }

  private copySource(key: string): string {
    return `${encodeURIComponent(this.bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The bucket answers signed requests: what /readyz asks of the store (a HEAD, cheap enough to poll). */
  async probe(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async write(source: Readable): Promise<StoredBlob> {
    const tmp = `${this.prefix}tmp/${randomUUID()}`;
    const hash = createHash('sha256');
    let size = 0;
    const direct: { sha256?: string } = {};
    /** The hash once the body has ended, and the stamp begun then (see below). */
    let early: { sha256: string; stamped: Promise<void> } | undefined;
    inFlight.add(tmp);
    try {
      try {
        await uploadStreamed(this.client, this.bucket, tmp, source, {
          seen: (chunk) => {
            hash.update(chunk);
            size += chunk.length;
          },
          whole: async (body) => {
            const sha256 = hash.digest('hex');
            // the stamp first, as below; then the bytes under their key, in one request that lands whole or not at all
            await this.stamp(sha256);
            const put = new PutObjectCommand({
              Bucket: this.bucket,
              Key: this.blobKey(sha256),
              Body: body,
              ContentLength: body.length,
            });
            if (this.unsignedPayload) withUnsignedPayload(put);
            await this.client.send(put);
            direct.sha256 = sha256;
          },
          // The stamp needs only the hash, which is final once the body has ended: it is sent then, alongside the
          // upload's last parts and its completion, rather than after them. It still lands before the copy below
          // (awaited there), which is all remove() asks of it. A stamp for a write that then fails is harmless: it
          // only keeps a removal from taking those bytes for a while, and goes with the old stamps.
          ended: () => {
            const sha256 = hash.digest('hex');
            const stamped = this.stamp(sha256);
            stamped.catch(() => {}); // awaited below, unless the upload failed first
            early = { sha256, stamped };
          },
          unsignedPayload: this.unsignedPayload,
        });
      } catch (err) {
        // whatever failed (the source: a body over the limit, a client gone; or the service), the source is given
        // up, so whoever feeds it stops; a temp object there might be is deleted
        source.destroy();
        await this.deleteQuietly(tmp);
        throw isOverQuota(err)
          ? new InsufficientStorageError('the S3 bucket is over its quota; nothing was saved', { cause: err })
          : err;
      }
      if (direct.sha256 !== undefined) return { key: direct.sha256, size, sha256: direct.sha256 };
      const sha256 = early?.sha256 ?? hash.digest('hex');
      try {
        // the stamp first: a removal that is deciding on this blob sees it and puts the blob back (see remove())
        await (early?.stamped ?? this.stamp(sha256));
        // Same content, same key: copying over an existing blob replaces it with identical bytes, in a new object
        // whose LastModified is now. That is what makes the write count as writing the blob again for collection.
        await this.client.send(
          new CopyObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256), CopySource: this.copySource(tmp) }),
        );
      } finally {
        await this.deleteQuietly(tmp);
      }
      return { key: sha256, size, sha256 };
    } finally {
      inFlight.delete(tmp);
    }
  }

  read(key: string): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    // a reader that goes away before the bytes start (a client hanging up) cancels the request too
    out.once('close', () => abort.abort());
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(key) }), { abortSignal: abort.signal })
      .then((answer) => pipeline(answer.Body as Readable, out))
      .catch((err: unknown) => out.destroy(err as Error));
    return out;
  }

  /**
   * A presigned GET of the blob (SigV4 in the query string: no request is sent, the URL is signed here), valid for
   * `ttlSeconds` by the bucket's clock. The key is the bytes' SHA-256 and a blob is never rewritten with other
   * bytes, so the URL answers exactly these bytes for as long as it lives, whatever saves come after; the signature
   * covers the key, the host and the expiry, so a changed URL is refused (403). The answer says `no-store`, so no
   * cache keeps the bytes past the URL's life.
   */
  async urlFor(key: string, ttlSeconds: number): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.blobKey(key),
      ResponseCacheControl: 'private, no-store',
    });
    return getSignedUrl(this.signer, command, { expiresIn: ttlSeconds });
  }

  async has(key: string): Promise<boolean> {
    if (!BLOB_KEY.test(key)) return false;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<BlobEntry> {
    const folder = `${this.prefix}blobs/`;
    for await (const object of this.objectsUnder(folder)) {
      const key = object.key.slice(folder.length);
      if (BLOB_KEY.test(key)) yield { key, size: object.size, writtenAt: object.writtenAt };
    }
  }

  /**
   * An S3 object's LastModified changes only when the object is written, so a touch writes it: a server-side copy
   * of the object onto itself, with its metadata replaced (S3 refuses a self-copy that changes nothing). This keeps
   * one clock for a blob's age, the one list() reads, rather than a separate marker whose age every listing would
   * have to join in. Preceded by a stamp, as a write is, for a removal deciding at the same moment.
   */
  async touch(key: string): Promise<boolean> {
    if (!BLOB_KEY.test(key)) return false;
    await this.stamp(key);
    const object = this.blobKey(key);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: object,
          CopySource: this.copySource(object),
          MetadataDirective: 'REPLACE',
          Metadata: { 'quire-touched': new Date().toISOString() },
        }),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Removes the blob if it was last written or touched before `writtenBefore`. Why this never takes bytes a save
   * needs (FsBlobStore.remove gives the argument for the file system; this is its S3 form):
   *
   * Every new reference is made by a write (copy into place) or a touch (self-copy), then a commit. Checking the age
   * and then deleting leaves a gap in which a save's copy could land, and the delete would take it. S3 has no rename
   * to take exactly the object under a key; a conditional delete (If-Match on DeleteObject) is not honoured
   * everywhere: Ceph RGW 16 ignores it and deletes anyway. So instead every write and touch first leaves a stamp,
   * `fresh/<sha256>/<uuid>` (unique, so nothing ever overwrites or deletes a stamp younger than the grace), and:
   *
   *   1. the blob's age is read from a listing: young, or a young stamp: kept;
   *   2. the blob is copied to a claim (server-side), so its bytes survive what follows;
   *   3. the blob is deleted;
   *   4. the stamps are listed again: a young one means a write or touch began since step 1, and its copy may have
   *      landed before the delete and been taken by it, so the claim is copied back. Otherwise the blob is gone for
   *      good; its old stamps and the claim are deleted.
   *
   * A write's stamp is made before its copy, so a copy that landed before the delete (step 3) had its stamp in place
   * before step 4 reads them (S3 is strongly consistent for reads after writes and for listings, on AWS since
   * 2020 and on a single-site RGW). A copy that lands after the delete puts the blob back itself. A stamp is "young"
   * while younger than the cutoff, so a write in progress is recognised as long as it takes less than the grace
   * period from stamp to commit, the same bound collection already relies on.
   *
   * What remains: between step 3 and step 4's copy back, a read of the blob fails (only for bytes nothing referenced
   * for an hour, re-saved in the instant collection decides on them; the bytes are back a moment later), and a touch
   * landing in that instant answers false, so its restore refuses once. A process that dies holding a claim leaves it
   * under gc/; collectTemp() puts it back later. Ages compare the S3 service's clock with the host's (collection's
   * cutoff is the host's time): they must agree to well within the grace period. A multi-site (asynchronously
   * replicated) deployment must run collection where the writes go.
   */
  async remove(key: string, writtenBefore: number): Promise<boolean> {
    if (!BLOB_KEY.test(key)) return false;
    const object = this.blobKey(key);
    const written = await this.lastModified(object);
    if (written === undefined || written >= writtenBefore) return false;
    if ((await this.stamps(key)).some((s) => s.writtenAt >= writtenBefore)) return false;
    const claim = `${this.prefix}gc/${key}.${randomUUID()}`;
    try {
      await this.copy(object, claim);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object }));
    const stamps = await this.stamps(key);
    if (stamps.some((s) => s.writtenAt >= writtenBefore)) {
      // if this copy fails the claim stays, and collectTemp() puts it back
      await this.copy(claim, object);
      await this.deleteQuietly(claim);
      return false;
    }
    await this.deleteQuietly(claim);
    // all old: no write in progress made them (see above), so nothing needs them any more
    for (const stamp of stamps) await this.deleteQuietly(stamp.key);
    return true;
  }

  /**
   * Tidies what saves and removals left behind: temp objects no save is copying any more (never one of a save in
   * progress in this process; other processes' after STALE_TEMP_MS), multipart uploads abandoned for a day, claims
   * whose removal died (put back: the next collection decides again), and stamps older than the grace period (they
   * belong to no write in progress). Answers the temp objects and uploads it removed.
   */
  async collectTemp(staleMs = STALE_TEMP_MS): Promise<string[]> {
    const now = Date.now();
    const removed: string[] = [];
    for await (const object of this.objectsUnder(`${this.prefix}tmp/`)) {
      if (object.writtenAt < now - staleMs && !inFlight.has(object.key)) {
        await this.deleteQuietly(object.key);
        removed.push(object.key);
      }
    }
    for (const upload of await this.abandonedUploads(now - Math.max(staleMs, STALE_UPLOAD_MS))) {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.id }),
      );
      removed.push(upload.key);
    }
    for await (const claim of this.objectsUnder(`${this.prefix}gc/`)) {
      const key = claim.key.slice(`${this.prefix}gc/`.length, `${this.prefix}gc/`.length + 64);
      if (claim.writtenAt >= now - staleMs || !BLOB_KEY.test(key)) continue;
      await this.copy(claim.key, this.blobKey(key));
      await this.deleteQuietly(claim.key);
    }
    for await (const stamp of this.objectsUnder(`${this.prefix}fresh/`)) {
      if (stamp.writtenAt < now - BLOB_GRACE_MS) await this.deleteQuietly(stamp.key);
    }
    return removed;
  }

  /** Multipart uploads under tmp/ started before `before` (none of this process's saves in progress). */
  private async abandonedUploads(before: number): Promise<Array<{ key: string; id: string }>> {
    const found: Array<{ key: string; id: string }> = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: `${this.prefix}tmp/`,
          ...(keyMarker && { KeyMarker: keyMarker }),
          ...(uploadIdMarker && { UploadIdMarker: uploadIdMarker }),
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || inFlight.has(u.Key)) continue;
        if ((u.Initiated?.getTime() ?? 0) < before) found.push({ key: u.Key, id: u.UploadId });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return found;
  }

  close(): void {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }

  /** Leaves an empty, uniquely named object saying a write or touch of `key` is under way (see remove()). */
  private async stamp(key: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${this.prefix}fresh/${key}/${randomUUID()}`,
        Body: Buffer.alloc(0),
      }),
    );
  }

  private async stamps(key: string): Promise<Array<{ key: string; writtenAt: number }>> {
    const found: Array<{ key: string; writtenAt: number }> = [];
    for await (const stamp of this.objectsUnder(`${this.prefix}fresh/${key}/`)) found.push(stamp);
    return found;
  }

  private async copy(from: string, to: string): Promise<void> {
    await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: this.copySource(from) }));
  }

  /** The object's LastModified in ms (from a listing: HeadObject's has only seconds), or undefined when absent. */
  private async lastModified(object: string): Promise<number | undefined> {
    const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: object, MaxKeys: 1 }));
    const found = page.Contents?.[0];
    return found?.Key === object ? found.LastModified?.getTime() : undefined;
  }

  private async *objectsUnder(folder: string): AsyncIterable<{ key: string; size: number; writtenAt: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ...(token && { ContinuationToken: token }) }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, writtenAt: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes an object, leaving it to collectTemp() when that fails (the write or removal has its answer already). */
  private async deleteQuietly(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => {});
  }
}

/**
 * Opens the blob store on `options.bucket`, checking first that the bucket answers (a wrong endpoint, bucket or key
 * is said at start, not at the first save). The bucket must exist: Quire creates none.
 */
export async function openS3BlobStore(options: S3BlobOptions): Promise<S3BlobStore> {
  const client = makeS3Client(options);
  const signer = options.publicEndpoint ? makeS3Client({ ...options, endpoint: options.publicEndpoint }) : client;
  const store = new S3BlobStore(client, options, signer);
  try {
    await store.probe();
  } catch (err) {
    store.close();
    const where = options.endpoint ? ` at ${options.endpoint}` : '';
    const why = err instanceof Error ? err.message || err.name : String(err);
    throw new Error(`the S3 bucket ${JSON.stringify(options.bucket)}${where} does not answer: ${why}`, { cause: err });
  }
  return store;
}
