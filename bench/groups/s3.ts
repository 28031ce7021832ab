import { createHash, randomBytes } from 'node:crypto';
import { withScope } from '../lib/cleanup.ts';
import { config } from '../lib/config.ts';
import { Body, getHashed, keepAlive, postBody, request } from '../lib/http.ts';
import { addFile, newStore, type Prepared, type Store, serve, withLibrary, wopi } from '../lib/quire.ts';
import {
  BARE_PART_BYTES,
  BARE_PARTS_AT_ONCE,
  bareGetHashed,
  bareMultipartUpload,
  barePut,
  benchBucket,
  benchS3,
} from '../lib/s3.ts';
import type { Backend } from '../lib/servers.ts';
import { atLeast, mbps, type Row } from '../lib/table.ts';

const MiB = config.MiB;
/** The large body, PUT and GET. */
const LARGE_MIB = 64;
/** The batch of small files: how many, how large, how many at once (each side alike). */
const SMALL_FILES = config.quick ? 48 : 160;
const SMALL_BYTES = 64 * 1024;
const SMALL_AT_ONCE = 8;
/** Each comparison: this many ABBA rounds (baseline, Quire, Quire, baseline). */
const ROUNDS = config.quick ? 1 : 2;
/** GETs of the large file per side per round. */
const GETS = config.quick ? 2 : 3;
const TARGET = 0.8;

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** One side of a comparison: `prepare` (not timed) makes what `run` (timed) sends. */
interface Side<P> {
  prepare: () => P;
  run: (prepared: P) => Promise<unknown>;
}

/** ABBA rounds of `a` (the baseline) and `b` (Quire): the total seconds of each side's runs. */
async function abba<P, Q>(a: Side<P>, b: Side<Q>): Promise<{ a: number; b: number }> {
  const t = { a: 0, b: 0 };
  const runA = async () => {
    const p = a.prepare();
    t.a += await seconds(() => a.run(p));
  };
  const runB = async () => {
    const q = b.prepare();
    t.b += await seconds(() => b.run(q));
  };
  for (let i = 0; i < ROUNDS; i++) {
    await runA();
    await runB();
    await runB();
    await runA();
  }
  return t;
}

const nothing = () => undefined;

/** Runs `work` over `items`, `atOnce` at a time. */
async function inParallel<T>(items: T[], atOnce: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: atOnce }, worker));
}

/**
 * Quire with its blobs in an S3 bucket (QUIRE_BENCH_S3_*; skipped without one) against the AWS SDK talking to the
 * same bucket from the bench process, in the same run: PutFile of 64 MiB against a bare multipart upload of the same
 * bytes (already in memory, lib-storage's defaults), PutFile of a batch of small files against PutObject of them,
 * GetFile of 64 MiB against GetObject of the very object Quire reads, and an editor's open through FileUrl
 * (CheckFileInfo, then GET the presigned URL) against the same open through Quire (CheckFileInfo, then GetFile).
 */
export async function s3(backend: Backend, log: (line: string) => void): Promise<Row[]> {
  const settings = benchS3;
  if (!settings) {
    log('skipped: no S3 endpoint (set QUIRE_BENCH_S3_ENDPOINT …, see bench/README.md)');
    return [
      {
        backend: backend.name,
        key: 's3-skipped',
        path: 'S3 (the whole group)',
        quire: 'skipped: QUIRE_BENCH_S3_ENDPOINT is not set',
        baseline: '—',
        target: '—',
        result: 'info',
      },
    ];
  }
  return withScope(async (scope) => {
    const { options, client } = await benchBucket(scope, settings);
    const bucket = options.bucket;
    const store: Store = { ...newStore(scope, backend), s3: options };
    const largeBytes = randomBytes(LARGE_MIB * MiB);
    const prepared = await withLibrary(store, async (q) => ({
      put: await addFile(q, 'Large.pptx', Buffer.alloc(0)),
      small: await Promise.all(
        Array.from({ length: SMALL_FILES }, (_, i) => addFile(q, `Small ${i}.docx`, Buffer.alloc(0))),
      ),
      get: await addFile(q, 'Download.pptx', largeBytes),
    }));
    const quire = await serve(scope, store, ['--file-url', '--editor-flavour', 'onlyoffice']);
    log(`Quire on ${options.endpoint}, bucket ${bucket}, prefix ${options.prefix}`);
    const lockId = 'bench-s3-lock';
    const agent = keepAlive(SMALL_AT_ONCE);
    scope.defer(() => agent.destroy());
    const lock = async (file: Prepared) => {
      const r = await request(wopi(quire, file).file, {
        method: 'POST',
        headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lockId },
        agent,
      });
      if (r.status !== 200) throw new Error(`LOCK answered ${r.status}`);
    };
    await lock(prepared.put);
    for (const f of prepared.small) await lock(f);
    const rows: Row[] = [];
    const putHeaders = { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lockId };
    let bareKeys = 0;
    const bareKey = () => `${options.prefix}bare/${bareKeys++}`;

    // PutFile 64 MiB: a new body each time (its first MiB its own), the bare side with the same bytes in memory
    const shared = randomBytes(MiB);
    const fresh = () => new Body(randomBytes(MiB), shared, LARGE_MIB);
    const large = await abba(
      {
        prepare: () => Buffer.concat([...fresh().chunks()]),
        run: (bytes) => bareMultipartUpload(client, bucket, bareKey(), bytes),
      },
      {
        prepare: fresh,
        run: async (body) => {
          const r = await postBody(wopi(quire, prepared.put).contents, putHeaders, body);
          if (r.status !== 200) throw new Error(`PutFile answered ${r.status}: ${r.body}`);
        },
      },
    );
    const largeSize = LARGE_MIB * MiB;
    const putQ = (2 * ROUNDS * largeSize) / large.b;
    const putBare = (2 * ROUNDS * largeSize) / large.a;
    rows.push({
      backend: backend.name,
      key: 's3-put-large',
      path: `S3: PutFile ${LARGE_MIB} MiB (${2 * ROUNDS} saves)`,
      quire: mbps(putQ),
      baseline: `bare SDK multipart upload, bytes in memory, ${BARE_PART_BYTES / MiB} MiB parts ${BARE_PARTS_AT_ONCE} at once: ${mbps(putBare)}`,
      ratio: putQ / putBare,
      target: `≥ ${TARGET}`,
      result: atLeast(putQ / putBare, TARGET),
      value: putQ,
    });

    // a batch of small files, SMALL_AT_ONCE at once on each side
    const smallBodies = () => prepared.small.map((file) => ({ file, bytes: randomBytes(SMALL_BYTES) }));
    const small = await abba(
      {
        prepare: smallBodies,
        run: (bodies) => inParallel(bodies, SMALL_AT_ONCE, ({ bytes }) => barePut(client, bucket, bareKey(), bytes)),
      },
      {
        prepare: smallBodies,
        run: (bodies) =>
          inParallel(bodies, SMALL_AT_ONCE, async ({ file, bytes }) => {
            const url = wopi(quire, file).contents;
            const r = await request(url, { method: 'POST', headers: putHeaders, body: bytes, agent });
            if (r.status !== 200) throw new Error(`PutFile answered ${r.status}: ${r.body}`);
          }),
      },
    );
    const perSide = 2 * ROUNDS * SMALL_FILES;
    const smallQ = perSide / small.b;
    const smallBare = perSide / small.a;
    rows.push({
      backend: backend.name,
      key: 's3-put-small',
      path: `S3: PutFile ${SMALL_BYTES / 1024} KiB × ${SMALL_FILES}, ${SMALL_AT_ONCE} at once (${2 * ROUNDS} batches)`,
      quire: `${smallQ.toFixed(0)} saves/s (${mbps(smallQ * SMALL_BYTES)})`,
      baseline: `bare SDK PutObject, ${SMALL_AT_ONCE} at once: ${smallBare.toFixed(0)} puts/s (${mbps(smallBare * SMALL_BYTES)})`,
      ratio: smallQ / smallBare,
      target: `≥ ${TARGET}`,
      result: atLeast(smallQ / smallBare, TARGET),
      value: smallQ,
    });

    // GetFile 64 MiB against GetObject of the very object Quire reads, both hashed as they stream in
    const urls = wopi(quire, prepared.get);
    const expect = createHash('sha256').update(largeBytes).digest('hex');
    const blobKey = `${options.prefix}blobs/${expect}`;
    const check = (got: { sha256: string; status?: number }, what: string) => {
      if (got.sha256 !== expect) throw new Error(`${what} did not give the file (${got.status ?? ''})`);
    };
    const getSide = async (get: () => Promise<void>) => {
      for (let i = 0; i < GETS; i++) await get();
    };
    const gets = await abba(
      {
        prepare: nothing,
        run: () => getSide(async () => check(await bareGetHashed(client, bucket, blobKey), 'GetObject')),
      },
      { prepare: nothing, run: () => getSide(async () => check(await getHashed(urls.contents), 'GetFile')) },
    );
    const getBytes = 2 * ROUNDS * GETS * largeSize;
    const getQ = getBytes / gets.b;
    const getBare = getBytes / gets.a;
    rows.push({
      backend: backend.name,
      key: 's3-get-large',
      path: `S3: GetFile ${LARGE_MIB} MiB (${2 * ROUNDS * GETS} GETs, one at a time)`,
      quire: mbps(getQ),
      baseline: `bare SDK GetObject of the same object: ${mbps(getBare)}`,
      ratio: getQ / getBare,
      target: `≥ ${TARGET}`,
      result: atLeast(getQ / getBare, TARGET),
      value: getQ,
    });

    // an editor's open: CheckFileInfo, then the bytes from FileUrl (B) or from GetFile (A)
    const fileUrl = async (): Promise<string> => {
      const info = await request(urls.file);
      const url = JSON.parse(info.body.toString()).FileUrl;
      if (info.status !== 200 || typeof url !== 'string')
        throw new Error(`CheckFileInfo gave no FileUrl (${info.status})`);
      return url;
    };
    const opens = await abba(
      {
        prepare: nothing,
        run: () =>
          getSide(async () => {
            if ((await request(urls.file)).status !== 200) throw new Error('CheckFileInfo failed');
            check(await getHashed(urls.contents), 'GetFile');
          }),
      },
      { prepare: nothing, run: () => getSide(async () => check(await getHashed(await fileUrl()), 'GET FileUrl')) },
    );
    const openQ = getBytes / opens.b;
    const openGetFile = getBytes / opens.a;
    rows.push({
      backend: backend.name,
      key: 's3-fileurl',
      path: `S3: open through FileUrl, ${LARGE_MIB} MiB (CheckFileInfo + GET FileUrl, ${2 * ROUNDS * GETS} times)`,
      quire: mbps(openQ),
      baseline: `CheckFileInfo + GetFile through Quire: ${mbps(openGetFile)}`,
      ratio: openQ / openGetFile,
      target: '≥ 1',
      result: atLeast(openQ / openGetFile, 1),
      value: openQ,
    });
    return rows;
  });
}
