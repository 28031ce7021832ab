import assert from 'node:assert/strict';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { startHost, type TestHost, type WopiClient } from './helpers/host.ts';
import { waitFor } from './helpers/process-helpers.ts';
import { closeHost } from './helpers/put-helpers.ts';

/**
 * Temp files of saves whose process died are collected while Quire serves (every 10 minutes, and when the store
 * opens), never one a save still writes: a save in this process is known by its file, one in another process by
 * its file being recent.
 */
describe('abandoned temp files are collected, live ones never', () => {
  let host: TestHost;
  let c: WopiClient;
  let tmp: string;

  before(async () => {
    host = await startHost();
    const id = await host.addFile('Slow.docx', 'old');
    c = await host.client(id);
    assert.equal((await c.lock('L')).status, 200);
    tmp = join(host.dataDir, 'blobs', 'tmp');
  });
  after(() => closeHost(host));

  const parts = async () => (await readdir(tmp)).filter((f) => f.endsWith('.part')).sort();
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

  it('a GC pass removes a stale .part, keeps a recent one and the one a slow save is writing', async () => {
    // a save in progress: the body comes in pieces, and stops for a while half-way
    const upload = request(c.fileUrl('/contents'), {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L', 'Transfer-Encoding': 'chunked' },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      upload.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      upload.on('error', reject);
    });
    upload.write('first half, ');
    const live = (await waitFor(async () => (await parts())[0], 5000, "the save's temp file")) as string;
    // as far as its age goes, the live file looks abandoned too
    await utimes(join(tmp, live), hoursAgo(2), hoursAgo(2));

    // left by a process that crashed two hours ago, and by one that may still be saving
    await writeFile(join(tmp, 'crashed-save.part'), 'half a document');
    await utimes(join(tmp, 'crashed-save.part'), hoursAgo(2), hoursAgo(2));
    await writeFile(join(tmp, 'other-process.part'), 'a save in progress elsewhere');
    // not a save's temp file at all
    await writeFile(join(tmp, 'keep.txt'), 'not ours');
    await utimes(join(tmp, 'keep.txt'), hoursAgo(2), hoursAgo(2));

    assert.equal((await host.quire.collectGarbage()).tempFiles, 1);
    assert.deepEqual(await parts(), [live, 'other-process.part'].sort());
    assert.ok((await readdir(tmp)).includes('keep.txt'));

    // the slow save goes on and completes, unharmed
    await sleep(50);
    upload.end('second half');
    const res = await answered;
    assert.equal(res.status, 200, res.body);
    assert.equal((await c.content()).toString(), 'first half, second half');
    assert.deepEqual(await parts(), ['other-process.part'], 'the finished save left no temp file');
  });

  it('a .part older than an hour is removed when the store opens', async () => {
    await writeFile(join(tmp, 'before-start.part'), 'x');
    await utimes(join(tmp, 'before-start.part'), hoursAgo(2), hoursAgo(2));
    // what `quire serve` (or any command) does first: open the store on the data dir
    const storage = await openSqliteStorage(host.dataDir);
    await storage.close();
    assert.ok(!(await parts()).includes('before-start.part'));
  });
});
