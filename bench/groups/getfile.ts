import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withScope } from '../lib/cleanup.ts';
import { config } from '../lib/config.ts';
import { getHashed } from '../lib/http.ts';
import { addFile, newStore, type Prepared, serve, withLibrary, wopi } from '../lib/quire.ts';
import { type Backend, sameRequestOn, startBare } from '../lib/servers.ts';
import { atLeast, mbps, ms, type Row, reqs } from '../lib/table.ts';
import { errorNote, sideBySide } from '../lib/wrk.ts';

const SIZES = [
  { label: '200 KiB', bytes: 200 * 1024, key: 'get-200k' },
  { label: '20 MiB', bytes: 20 * 1024 * 1024, key: 'get-20m' },
];

/**
 * GetFile (GET …/contents) under wrk -c16 for a 200 KiB and a 20 MiB file, against a bare node:http server piping
 * fs.createReadStream of a file holding the same bytes on the same disk.
 */
export async function getFile(backend: Backend): Promise<Row[]> {
  return withScope(async (scope) => {
    const dir = scope.tempDir();
    const store = newStore(scope, backend);
    const contents = SIZES.map((s) => randomBytes(s.bytes));
    const files: Prepared[] = await withLibrary(store, async (q) => {
      const out: Prepared[] = [];
      for (const [i, bytes] of contents.entries()) out.push(await addFile(q, `Download ${i}.pptx`, bytes));
      return out;
    });
    const quire = await serve(scope, store);
    const rows: Row[] = [];
    for (const [i, size] of SIZES.entries()) {
      const bytes = contents[i] as Buffer;
      const file = files[i] as Prepared;
      const path = join(dir, `${size.key}.bin`);
      writeFileSync(path, bytes);
      const bare = await startBare(scope, { mode: 'stream', file: path });
      const url = wopi(quire, file).contents;
      const bareUrl = sameRequestOn(bare, url);
      const sha = createHash('sha256').update(bytes).digest('hex');
      for (const u of [url, bareUrl]) {
        const got = await getHashed(u);
        if (got.status !== 200 || got.sha256 !== sha)
          throw new Error(`GET ${u} did not return the file (${got.status})`);
      }
      const r = await sideBySide(
        scope,
        dir,
        { url, connections: 16, timeoutSeconds: 30 },
        { url: bareUrl, connections: 16, timeoutSeconds: 30 },
        config,
      );
      const ratio = r.quire.rps / r.baseline.rps;
      rows.push({
        backend: backend.name,
        key: size.key,
        path: `GetFile ${size.label}, wrk -t2 -c16`,
        quire: `${reqs(r.quire.rps)} (${mbps(r.quire.bytesPerSecond)}), p99 ${ms(r.quire.p99Ms)}${errorNote(r.quire)}`,
        baseline: `bare node:http + fs.createReadStream: ${reqs(r.baseline.rps)} (${mbps(r.baseline.bytesPerSecond)}), p99 ${ms(r.baseline.p99Ms)}${errorNote(r.baseline)}`,
        ratio,
        target: '≥ 0.9',
        result: r.quire.errorCount > 0 ? 'SHORT' : atLeast(ratio, 0.9),
        value: r.quire.rps,
      });
    }
    return rows;
  });
}
