import { randomBytes } from 'node:crypto';
import { withScope } from '../lib/cleanup.ts';
import { config } from '../lib/config.ts';
import { request } from '../lib/http.ts';
import { addFile, mintToken, newStore, serve, withLibrary, wopi } from '../lib/quire.ts';
import { seed } from '../lib/seed.ts';
import type { Backend } from '../lib/servers.ts';
import { atLeast, count, ms, type Row, reqs } from '../lib/table.ts';
import { errorNote, sideBySide } from '../lib/wrk.ts';

/**
 * CheckFileInfo and GetLock throughput with a large catalog (1,000,000 files; 100,000 in quick mode) against the
 * same with 1,000 files: two stores seeded directly in the database, two servers, measured alternately, each on
 * a seeded file in the middle of its catalog.
 */
export async function scale(backend: Backend, log: (line: string) => void): Promise<Row[]> {
  return withScope(async (scope) => {
    const dir = scope.tempDir();
    const sizes = [config.scaleSmall, config.scaleLarge];
    const targets = [];
    for (const size of sizes) {
      const store = newStore(scope, backend);
      const real = await withLibrary(store, (q) => addFile(q, 'Real file.docx', randomBytes(8 * 1024)));
      const started = performance.now();
      const id = await seed(store, real.id, size - 1);
      log(`seeded ${count(size - 1)} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const token = await withLibrary(store, (q) => mintToken(q, id));
      const server = await serve(scope, store);
      const url = wopi(server, { id, token }).file;
      const check = await request(url);
      if (check.status !== 200)
        throw new Error(`CheckFileInfo on a seeded file answered ${check.status}: ${check.body}`);
      targets.push(url);
    }
    const [smallUrl, largeUrl] = targets as [string, string];
    const ops = [
      { name: 'CheckFileInfo', key: 'scale-cfi', req: {} },
      {
        name: 'GetLock',
        key: 'scale-getlock',
        req: { method: 'POST' as const, headers: { 'X-WOPI-Override': 'GET_LOCK' } },
      },
    ];
    const rows: Row[] = [];
    for (const op of ops) {
      const r = await sideBySide(
        scope,
        dir,
        { ...op.req, url: largeUrl, connections: 16 },
        { ...op.req, url: smallUrl, connections: 16 },
        config,
      );
      const ratio = r.quire.rps / r.baseline.rps;
      rows.push({
        backend: backend.name,
        key: op.key,
        path: `${op.name} with ${count(config.scaleLarge)} files vs ${count(config.scaleSmall)}, wrk -t2 -c16`,
        quire: `${reqs(r.quire.rps)}, p99 ${ms(r.quire.p99Ms)}${errorNote(r.quire)}`,
        baseline: `Quire with ${count(config.scaleSmall)} files: ${reqs(r.baseline.rps)}, p99 ${ms(r.baseline.p99Ms)}${errorNote(r.baseline)}`,
        ratio,
        target: '≥ 0.9',
        result: r.quire.errorCount + r.baseline.errorCount > 0 ? 'SHORT' : atLeast(ratio, 0.9),
        value: r.quire.rps,
      });
    }
    return rows;
  });
}
