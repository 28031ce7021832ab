/**
 * Quire with its bytes in a real S3 bucket (the test endpoint of test/helpers/s3.ts: Ceph RGW in CI) and its catalog
 * in PostgreSQL, as several instances would run it: a large save streamed through, read back byte for byte, a
 * refused save that leaves nothing in the bucket, garbage collection, /readyz. The BlobStore contract on S3 runs in
 * test/contract/storage.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { s3Options, UsageError } from '../src/cli/options.ts';
import { ManualClock } from '../src/core/clock.ts';
import { Quire } from '../src/quire.ts';
import { collectBlobs } from '../src/storage/blob-gc.ts';
import { makeS3Client, S3BlobStore } from '../src/storage/s3/index.ts';
import { freshTestSchema, postgresAvailable, readResponse, TEST_DATABASE_URL, WopiClient } from './helpers/host.ts';
import { runQuire } from './helpers/process-helpers.ts';
import { emptyS3Prefix, needsS3, openTestS3Blobs, s3ObjectsUnder, testS3Options } from './helpers/s3.ts';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const prefixOf = () => `quire-test-${randomBytes(8).toString('hex')}/`;

/** A PutFile whose body is sent in 256 KiB chunks with no Content-Length (the server cannot know the size). */
function putChunked(
  c: WopiClient,
  body: Buffer,
  lock: string,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(c.fileUrl('/contents'), {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock, 'Transfer-Encoding': 'chunked' },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers }),
      );
    });
    // a server refusing the body mid-way may close the connection on the rest of it: the answer is what counts
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    (async () => {
      for (let at = 0; at < body.length && !req.destroyed; at += 256 * 1024) {
        if (!req.write(body.subarray(at, at + 256 * 1024)))
          await new Promise((r) => req.once('drain', r).once('close', r));
      }
      req.end();
    })().catch(() => {});
  });
}

describe('blobs on S3, catalog in PostgreSQL', needsS3, () => {
  const skipPg = postgresAvailable ? {} : { skip: 'PostgreSQL is not reachable (QUIRE_TEST_DATABASE_URL)' };
  const prefix = prefixOf();
  const schema = freshTestSchema();
  let dataDir: string;
  let quire: Quire;
  let url: string;

  before(async () => {
    if (!postgresAvailable) return;
    dataDir = await mkdtemp(join(tmpdir(), 'quire-s3-'));
    quire = await Quire.create({
      dataDir,
      clock: new ManualClock(Date.UTC(2026, 0, 1, 12)),
      databaseUrl: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      s3: testS3Options(prefix),
      maxUploadBytes: 60 * MiB,
      logger: false,
    });
    url = await quire.listen(0, '127.0.0.1');
  });

  after(async () => {
    if (!postgresAvailable) return;
    await quire.close();
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
    await emptyS3Prefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  const clientFor = async (fileId: string) => {
    const minted = await quire.mintToken({ fileId, userId: 'alice' });
    return new WopiClient(url, fileId, minted.access_token);
  };
  const blobsInBucket = async () =>
    (await s3ObjectsUnder(prefix)).objects.filter((k) => k.startsWith(`${prefix}blobs/`)).map((k) => k.slice(-64));

  it('the blob store is S3 and /readyz says the bucket answers', skipPg, async () => {
    assert.ok(quire.host.storage.blobs instanceof S3BlobStore);
    const res = await readResponse(await fetch(`${url}/readyz`));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.checks.blobs.ok, true);
    assert.deepEqual(await blobsInBucket(), [], 'nothing in the bucket before the first save');
  });

  it('a 50 MB PutFile streams into the bucket and GetFile gives it back byte for byte', skipPg, async () => {
    const file = await quire.addFile({ source: Readable.from([Buffer.from('first')]), name: 'big.bin', ownerId: 'o' });
    const c = await clientFor(file.id);
    assert.equal((await c.lock('L1')).status, 200);
    const body = randomBytes(50 * MiB);
    const put = await putChunked(c, body, 'L1');
    assert.equal(put.status, 200, put.text);
    const got = await c.getFile();
    assert.equal(got.status, 200);
    assert.equal(got.bytes.length, body.length);
    assert.equal(sha256(got.bytes), sha256(body), 'GetFile gives the saved bytes');
    assert.deepEqual((await blobsInBucket()).sort(), [sha256(Buffer.from('first')), sha256(body)].sort());
    const { objects, uploads } = await s3ObjectsUnder(prefix);
    assert.deepEqual(
      objects.filter((k) => k.startsWith(`${prefix}tmp/`) || k.startsWith(`${prefix}gc/`)),
      [],
      'no temp object or claim left',
    );
    assert.deepEqual(uploads, [], 'no unfinished multipart upload');
  });

  it(
    'a save refused mid-way (over the upload limit, no Content-Length) leaves nothing in the bucket',
    skipPg,
    async () => {
      const file = await quire.addFile({
        source: Readable.from([Buffer.from('small')]),
        name: 'limit.bin',
        ownerId: 'o',
      });
      const c = await clientFor(file.id);
      assert.equal((await c.lock('L2')).status, 200);
      const before = await s3ObjectsUnder(prefix);
      const put = await putChunked(c, randomBytes(70 * MiB), 'L2');
      assert.equal(put.status, 413, put.text);
      assert.equal((await c.content()).toString(), 'small', 'the file is unchanged');
      // the refused write's temp object is deleted and its multipart upload aborted before the answer
      assert.deepEqual(await s3ObjectsUnder(prefix), before);
    },
  );

  it(
    'GC removes an unreferenced blob after its grace, keeps a touched one and every referenced one',
    skipPg,
    async () => {
      const { blobs, catalog } = quire.host.storage;
      const stale = await blobs.write(Readable.from([Buffer.from('nobody references this')]));
      const touched = await blobs.write(Readable.from([Buffer.from('about to be restored')]));
      const referenced = await catalog.referencedBlobKeys();
      await sleep(1500);
      assert.equal(await blobs.touch(touched.key), true);
      // a grace of one second: the stale blob is past it, the touched one is not
      const freed = await collectBlobs(quire.host.storage, { graceMs: 1000 });
      assert.deepEqual(freed, { blobs: 1, bytes: stale.size });
      assert.equal(await blobs.has(stale.key), false);
      assert.equal(await blobs.has(touched.key), true);
      for (const key of referenced) assert.equal(await blobs.has(key), true, `referenced ${key} kept`);
      assert.deepEqual(
        (await blobsInBucket()).sort(),
        [...referenced, touched.key].sort(),
        'the bucket holds exactly what is referenced or young',
      );
      const { objects } = await s3ObjectsUnder(prefix);
      assert.deepEqual(
        objects.filter((k) => k.startsWith(`${prefix}gc/`) || k.startsWith(`${prefix}fresh/${stale.key}`)),
        [],
        'neither a claim nor the removed blob stamps are left',
      );
    },
  );
});

describe('S3 blob store: settings and what failures leave', needsS3, () => {
  it('Quire refuses to start on a bucket that does not answer, saying which', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-s3-'));
    try {
      await assert.rejects(
        Quire.create({ dataDir, s3: { ...testS3Options('x/'), bucket: 'no-such-bucket-for-quire' }, logger: false }),
        /S3 bucket "no-such-bucket-for-quire".* does not answer/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a write that fails after several parts aborts its multipart upload and leaves no object', async () => {
    const prefix = prefixOf();
    const store = openTestS3Blobs(prefix);
    try {
      const source = new PassThrough();
      const writing = store.write(source);
      source.write(randomBytes(12 * MiB));
      while (source.writableLength > 0) await sleep(10);
      await sleep(300);
      source.destroy(new Error('the client went away'));
      await assert.rejects(writing, /the client went away/);
      assert.deepEqual(await s3ObjectsUnder(prefix), { objects: [], uploads: [] });
    } finally {
      store.close();
      await emptyS3Prefix(prefix);
    }
  });

  it('over TLS the bytes go with an unsigned payload, and the service keeps them byte for byte', async () => {
    const prefix = prefixOf();
    const options = testS3Options(prefix);
    // The endpoint the store is told of decides how it signs (https: unsigned payload); the client decides where
    // the requests go, here the test service over plain http, which accepts unsigned payloads as AWS does.
    const store = new S3BlobStore(makeS3Client(options), { ...options, endpoint: 'https://s3.example.invalid' });
    const sent: string[] = [];
    const client = (store as unknown as { client: import('@aws-sdk/client-s3').S3Client }).client;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        // the bytes' requests (not the stamps, empty, nor CompleteMultipartUpload's list of parts)
        const bytes = ['UploadPartCommand', 'PutObjectCommand'].includes(context.commandName ?? '');
        if (bytes && Number(headers['content-length'] ?? '0') > 0) sent.push(headers['x-amz-content-sha256'] ?? '');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    try {
      for (const bytes of [randomBytes(12 * MiB + 7), randomBytes(200 * 1024)]) {
        const blob = await store.write(Readable.from([bytes]));
        assert.equal(blob.sha256, sha256(bytes));
        const back: Buffer[] = [];
        for await (const chunk of store.read(blob.key)) back.push(chunk as Buffer);
        assert.ok(Buffer.concat(back).equals(bytes), 'read back byte for byte');
      }
      assert.equal(sent.length, 4, 'three parts, then the small body in one put');
      assert.deepEqual(new Set(sent), new Set(['UNSIGNED-PAYLOAD']), 'no body was hashed for the signature');
      assert.deepEqual(
        (await s3ObjectsUnder(prefix)).objects.filter((k) => k.startsWith(`${prefix}tmp/`)),
        [],
        'no temp object left',
      );
    } finally {
      store.close();
      await emptyS3Prefix(prefix);
    }
  });

  it('over plain http every body is hashed for the signature, as the SDK does by default', async () => {
    const prefix = prefixOf();
    const store = openTestS3Blobs(prefix);
    const sent: string[] = [];
    const client = (store as unknown as { client: import('@aws-sdk/client-s3').S3Client }).client;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        const bytes = ['UploadPartCommand', 'PutObjectCommand'].includes(context.commandName ?? '');
        if (bytes && Number(headers['content-length'] ?? '0') > 0) sent.push(headers['x-amz-content-sha256'] ?? '');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    try {
      await store.write(Readable.from([randomBytes(6 * MiB)]));
      assert.equal(sent.length, 2, 'two parts');
      for (const value of sent) assert.match(value, /^[0-9a-f]{64}$/);
    } finally {
      store.close();
      await emptyS3Prefix(prefix);
    }
  });

  for (const racer of ['write', 'touch'] as const) {
    it(`a ${racer} of the same bytes landing just before removal deletes them: the blob is put back`, async () => {
      const prefix = prefixOf();
      const options = testS3Options(prefix);
      const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      // a real client, with a hook that runs just before each request it sends: the race, made to happen every time
      const real = makeS3Client(options);
      let beforeSend: ((command: unknown) => Promise<void>) | undefined;
      const hooked = new Proxy(real, {
        get(target, name, receiver) {
          if (name !== 'send') return Reflect.get(target, name, receiver);
          return async (command: unknown, ...rest: unknown[]) => {
            await beforeSend?.(command);
            return (target.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
          };
        },
      });
      const collecting = new S3BlobStore(hooked, options);
      const saving = openTestS3Blobs(prefix);
      try {
        const bytes = randomBytes(64 * 1024);
        const blob = await saving.write(Readable.from([bytes]));
        const listed = [];
        for await (const entry of collecting.list()) listed.push(entry);
        const cutoff = (listed[0]?.writtenAt ?? 0) + 1;
        await sleep(20);
        let raced = false;
        beforeSend = async (command) => {
          if (raced || !(command instanceof DeleteObjectCommand)) return;
          if (command.input.Key !== `${prefix}blobs/${blob.key}`) return;
          raced = true;
          // the save (or restore) passes collection's age check and lands its copy right before the delete
          if (racer === 'write') assert.deepEqual(await saving.write(Readable.from([bytes])), blob);
          else assert.equal(await saving.touch(blob.key), true);
        };
        assert.equal(await collecting.remove(blob.key, cutoff), false, 'kept: put back from its claim');
        assert.ok(raced, 'the race happened');
        assert.equal(await saving.has(blob.key), true);
        const back: Buffer[] = [];
        for await (const chunk of saving.read(blob.key)) back.push(chunk as Buffer);
        assert.ok(Buffer.concat(back).equals(bytes));
        const { objects } = await s3ObjectsUnder(prefix);
        assert.deepEqual(
          objects.filter((k) => !k.startsWith(`${prefix}fresh/`)),
          [`${prefix}blobs/${blob.key}`],
          'no claim left',
        );
        // and without a race, the same removal (the blob now young again, so a later cutoff) takes it
        beforeSend = undefined;
        await sleep(20);
        assert.equal(await collecting.remove(blob.key, Date.now() + 60_000), true);
        assert.equal(await saving.has(blob.key), false);
        assert.deepEqual((await s3ObjectsUnder(prefix)).objects, [], 'its stamps and claim went with it');
      } finally {
        collecting.close();
        saving.close();
        await emptyS3Prefix(prefix);
      }
    });
  }

  it('collectTemp removes stale temp objects, puts back claims a dead removal left, and keeps recent ones', async () => {
    const prefix = prefixOf();
    const store = openTestS3Blobs(prefix);
    try {
      const blob = await store.write(Readable.from([Buffer.from('claimed by a collection that died')]));
      // what a crashed save and a crashed removal leave: a temp object, and the blob only under a claim
      const client = (store as unknown as { client: import('@aws-sdk/client-s3').S3Client }).client;
      const { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const bucket = testS3Options(prefix).bucket;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}tmp/crashed`, Body: 'x' }));
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `${prefix}gc/${blob.key}.dead`,
          CopySource: `${bucket}/${prefix}blobs/${blob.key}`,
        }),
      );
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}blobs/${blob.key}` }));
      assert.deepEqual(await store.collectTemp(), [], 'recent: kept (a save or removal may be at work)');
      assert.equal(await store.has(blob.key), false);
      await sleep(50);
      assert.deepEqual(await store.collectTemp(20), [`${prefix}tmp/crashed`]);
      assert.equal(await store.has(blob.key), true, 'the claim is back in place');
      const left = (await s3ObjectsUnder(prefix)).objects.filter((k) => !k.startsWith(`${prefix}fresh/`));
      assert.deepEqual(left, [`${prefix}blobs/${blob.key}`]);
    } finally {
      store.close();
      await emptyS3Prefix(prefix);
    }
  });
});

describe('S3 settings on the command line', () => {
  it('a bucket turns S3 on; the other settings without one, or one key without the other, are usage errors', () => {
    assert.deepEqual(s3Options({}, {}), {});
    assert.deepEqual(
      s3Options(
        { 's3-bucket': 'b', 's3-endpoint': 'http://127.0.0.1:7480', 's3-prefix': 'q/', 's3-path-style': true },
        { QUIRE_S3_REGION: 'eu-1', QUIRE_S3_ACCESS_KEY_ID: 'id', QUIRE_S3_SECRET_ACCESS_KEY: 'secret' },
      ),
      {
        s3: {
          bucket: 'b',
          endpoint: 'http://127.0.0.1:7480',
          prefix: 'q/',
          region: 'eu-1',
          forcePathStyle: true,
          credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
        },
      },
    );
    assert.deepEqual(s3Options({}, { QUIRE_S3_BUCKET: 'b', QUIRE_S3_PATH_STYLE: '1' }), {
      s3: { bucket: 'b', forcePathStyle: true },
    });
    assert.throws(() => s3Options({ 's3-endpoint': 'http://x' }, {}), UsageError);
    assert.throws(() => s3Options({ 's3-bucket': 'b', 's3-endpoint': 'ftp://x' }, {}), /--s3-endpoint/);
    assert.throws(() => s3Options({ 's3-bucket': 'b' }, { QUIRE_S3_ACCESS_KEY_ID: 'id' }), /go together/);
  });

  it(
    'quire add and quire gc keep the bytes in the bucket given by flags, credentials from the environment',
    needsS3,
    async () => {
      const prefix = prefixOf();
      const dataDir = await mkdtemp(join(tmpdir(), 'quire-s3-cli-'));
      const options = testS3Options(prefix);
      const flags = [
        '--data',
        dataDir,
        '--s3-bucket',
        options.bucket,
        '--s3-endpoint',
        options.endpoint ?? '',
        '--s3-prefix',
        prefix,
        '--s3-path-style',
      ];
      const env = {
        QUIRE_S3_ACCESS_KEY_ID: options.credentials?.accessKeyId ?? '',
        QUIRE_S3_SECRET_ACCESS_KEY: options.credentials?.secretAccessKey ?? '',
      };
      try {
        const doc = join(dataDir, 'in.txt');
        await import('node:fs/promises').then((fs) => fs.writeFile(doc, 'bytes from the command line'));
        const added = await runQuire(['add', doc, ...flags], { env });
        assert.equal(added.code, 0, added.stderr);
        const key = sha256(Buffer.from('bytes from the command line'));
        assert.ok(
          (await s3ObjectsUnder(prefix)).objects.includes(`${prefix}blobs/${key}`),
          'the blob is in the bucket',
        );
        const gc = await runQuire(['gc', ...flags], { env });
        assert.equal(gc.code, 0, gc.stderr);
        assert.equal(JSON.parse(gc.stdout).garbage.blobs, 0, 'a referenced, young blob is kept');
        const wrongKey = await runQuire(['gc', ...flags], { env: { ...env, QUIRE_S3_SECRET_ACCESS_KEY: 'wrong' } });
        assert.notEqual(wrongKey.code, 0);
        assert.match(wrongKey.stderr, /S3 bucket .* does not answer/);
      } finally {
        await emptyS3Prefix(prefix);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
