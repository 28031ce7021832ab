import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withScope } from '../lib/cleanup.ts';
import { config } from '../lib/config.ts';
import { request } from '../lib/http.ts';
import { addFile, newStore, serve, withLibrary, wopi } from '../lib/quire.ts';
import { type Backend, sameRequestOn, startBare } from '../lib/servers.ts';
import { atLeast, ms, type Row, reqs } from '../lib/table.ts';
import { errorNote, sideBySide } from '../lib/wrk.ts';

/**
 * CheckFileInfo (GET /wopi/files/{id}) under wrk at 16 and 64 connections, against a bare node:http server that
 * answers every request with the very bytes Quire answered (fetched from it once) and the same Content-Type: what
 * is left is Quire's own work per request (token, catalog read, JSON).
 */
export async function checkFileInfo(backend: Backend): Promise<Row[]> {
  return withScope(async (scope) => {
    const dir = scope.tempDir();
    const store = newStore(scope, backend);
    const file = await withLibrary(store, (q) => addFile(q, 'Quarterly report.docx', randomBytes(200 * 1024)));
    const quire = await serve(scope, store);
    const url = wopi(quire, file).file;
    const first = await request(url);
    if (first.status !== 200) throw new Error(`CheckFileInfo answered ${first.status}: ${first.body}`);
    const jsonPath = join(dir, 'check-file-info.json');
    writeFileSync(jsonPath, first.body);
    const contentType = String(first.headers['content-type'] ?? 'application/json');
    const bare = await startBare(scope, { mode: 'bytes', file: jsonPath, contentType });
    // the same path and query (token and all), so both get requests of the same size
    const bareUrl = sameRequestOn(bare, url);
    const same = await request(bareUrl);
    if (!same.body.equals(first.body)) throw new Error('the bare server does not answer the same bytes');

    const rows: Row[] = [];
    for (const connections of [16, 64]) {
      const r = await sideBySide(scope, dir, { url, connections }, { url: bareUrl, connections }, config);
      const ratio = r.quire.rps / r.baseline.rps;
      rows.push({
        backend: backend.name,
        key: `cfi-${connections}`,
        path: `CheckFileInfo, wrk -t2 -c${connections}`,
        quire: `${reqs(r.quire.rps)}, p99 ${ms(r.quire.p99Ms)}${errorNote(r.quire)}`,
        baseline: `bare node:http, same ${first.body.length} B of JSON: ${reqs(r.baseline.rps)}, p99 ${ms(r.baseline.p99Ms)}${errorNote(r.baseline)}`,
        ratio,
        target: '≥ 0.5',
        result: r.quire.errorCount > 0 ? 'SHORT' : atLeast(ratio, 0.5),
        value: r.quire.rps,
      });
    }
    return rows;
  });
}
