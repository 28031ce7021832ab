import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withScope } from '../lib/cleanup.ts';
import { config, largeLabel } from '../lib/config.ts';
import { Body, getHashed, postBody, request } from '../lib/http.ts';
import { addFile, newStore, serve, withLibrary, wopi } from '../lib/quire.ts';
import { type Backend, peakRss, resetPeakRss, sameRequestOn, startBare } from '../lib/servers.ts';
import { atLeast, atMost, mb, mbps, type Row } from '../lib/table.ts';

const MiB = config.MiB;

/** The same bytes written to a new file on the same disk and fsynced, in this process: what the disk allows. */
async function rawWrite(path: string, body: Body): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (const chunk of body.chunks()) await fh.write(chunk);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/**
 * PutFile (POST …/contents, X-WOPI-Override: PUT, with the lock) of 20 MiB bodies (several, one after another) and
 * of one large body (1 GiB; 256 MiB in quick mode), streamed by a node client. The baseline is the disk: a raw write
 * + fsync of the same bytes to a file on the same disk. A bare node:http server that receives the same body into
 * a file and fsyncs it is shown beside it (info), so the network's share can be seen. Also the server's peak RSS
 * (VmHWM, reset just before) during the large PutFile and during a GetFile of it.
 */
export async function putFile(backend: Backend): Promise<Row[]> {
  return withScope(async (scope) => {
    // in the system temp dir, as Quire's data dir is: the same disk
    const dir = scope.tempDir();
    const store = newStore(scope, backend);
    const file = await withLibrary(store, (q) => addFile(q, 'Autosaved.docx', Buffer.alloc(0)));
    const quire = await serve(scope, store);
    const urls = wopi(quire, file);
    const lockId = 'bench-putfile-lock';
    const locked = await request(urls.file, {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lockId },
    });
    if (locked.status !== 200) throw new Error(`LOCK answered ${locked.status}`);
    const bare = await startBare(scope, { mode: 'upload', dir });

    const shared = randomBytes(MiB);
    let raws = 0;
    const sides = {
      raw: async (body: Body) => {
        const path = join(dir, `raw-${raws++}.bin`);
        const seconds = await timed(() => rawWrite(path, body));
        await rm(path, { force: true });
        return seconds;
      },
      bare: (body: Body) =>
        timed(async () => {
          const r = await postBody(
            sameRequestOn(bare, urls.contents),
            { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lockId },
            body,
          );
          if (r.status !== 200) throw new Error(`bare upload answered ${r.status}`);
        }),
      quire: (body: Body) =>
        timed(async () => {
          const r = await postBody(urls.contents, { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lockId }, body);
          if (r.status !== 200) throw new Error(`PutFile answered ${r.status}: ${r.body}`);
        }),
    };

    // 20 MiB: interleaved, each body sent to all three sides before the next
    const small = { raw: 0, bare: 0, quire: 0, bytes: 0 };
    for (let i = 0; i < config.putSmallRepeats; i++) {
      const body = new Body(randomBytes(MiB), shared, config.putSmallMb);
      small.raw += await sides.raw(body);
      small.bare += await sides.bare(body);
      small.quire += await sides.quire(body);
      small.bytes += body.size;
    }

    // the large body: each side once, the servers' peak memory reset just before
    const large = new Body(randomBytes(MiB), shared, config.largeMb);
    const rawLarge = await sides.raw(large);
    const bareReset = resetPeakRss(bare.pid);
    const bareBefore = peakRss(bare.pid);
    const bareLarge = await sides.bare(large);
    const bareRss = peakRss(bare.pid);
    const quireReset = resetPeakRss(quire.pid);
    // right after a reset the peak is the current RSS: what the server held before the transfer
    const putBefore = peakRss(quire.pid);
    const quireLarge = await sides.quire(large);
    const putRss = peakRss(quire.pid);
    resetPeakRss(quire.pid);
    const getBefore = peakRss(quire.pid);
    let got = { status: 0, size: 0, sha256: '' };
    const getSeconds = await timed(async () => {
      got = await getHashed(urls.contents);
    });
    const getRss = peakRss(quire.pid);
    if (got.status !== 200 || got.sha256 !== large.sha256) {
      throw new Error(`GetFile after the large PutFile: status ${got.status}, ${got.size} bytes, not what was saved`);
    }

    const label = largeLabel(config.largeMb);
    const since = (reset: boolean) => (reset ? '' : ' (peak since start: could not reset)');
    const rows: Row[] = [];
    const putRows = (key: string, what: string, bytes: number, t: { raw: number; bare: number; quire: number }) => {
      const q = bytes / t.quire;
      const raw = bytes / t.raw;
      const net = bytes / t.bare;
      rows.push(
        {
          backend: backend.name,
          key,
          path: `PutFile ${what}`,
          quire: mbps(q),
          baseline: `raw write + fsync of the same bytes: ${mbps(raw)}`,
          ratio: q / raw,
          target: '≥ 0.85',
          result: atLeast(q / raw, 0.85),
          value: q,
        },
        {
          backend: backend.name,
          key: `${key}-net`,
          path: `PutFile ${what} vs a bare upload server`,
          quire: mbps(q),
          baseline: `bare node:http, body → file + fsync: ${mbps(net)}`,
          ratio: q / net,
          target: 'info',
          result: 'info',
          value: q,
        },
      );
    };
    putRows('put-20m', `20 MiB (${config.putSmallRepeats} saves)`, small.bytes, small);
    putRows('put-large', label, large.size, { raw: rawLarge, bare: bareLarge, quire: quireLarge });
    rows.push(
      {
        backend: backend.name,
        key: 'rss-put',
        path: `Server peak RSS during PutFile ${label}`,
        quire: `${mb(putRss)}${since(quireReset)} (${mb(putBefore)} before it)`,
        baseline: `bare upload server: ${mb(bareRss)}${since(bareReset)} (${mb(bareBefore)} before it)`,
        target: `≤ ${config.rssLimitMb} MB`,
        result: atMost(putRss / 1e6, config.rssLimitMb),
        value: putRss,
      },
      {
        backend: backend.name,
        key: 'rss-get',
        path: `Server peak RSS during GetFile ${label}`,
        quire: `${mb(getRss)}${since(quireReset)} (${mb(getBefore)} before it; GetFile at ${mbps(large.size / getSeconds)}, client hashing)`,
        baseline: '—',
        target: `≤ ${config.rssLimitMb} MB`,
        result: atMost(getRss / 1e6, config.rssLimitMb),
        value: getRss,
      },
    );
    return rows;
  });
}
