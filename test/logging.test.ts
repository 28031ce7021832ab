import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runQuireJson, ServeProcess, waitFor } from './helpers/process-helpers.ts';

/** What `quire serve` writes to its log: every request at debug, and never an access token. */
describe('the server log', () => {
  let dir: string;
  let server: ServeProcess;
  let fileId: string;
  let token: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-logging-'));
    await writeFile(join(dir, 'Log.docx'), 'bytes');
    server = await ServeProcess.start(join(dir, 'data'), { args: ['--log-level', 'debug'] });
    fileId = (await runQuireJson<{ id: string }>(['add', join(dir, 'Log.docx'), '--data', join(dir, 'data')])).id;
    token = (
      await runQuireJson<{ access_token: string }>(['token', fileId, '--user', 'ann', '--data', join(dir, 'data')])
    ).access_token;
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs each answered request once at debug, with the access token redacted from its URL', async () => {
    const url = `${server.url}/wopi/files/${fileId}?access_token=${token}`;
    assert.equal((await fetch(url)).status, 200);
    const refused = await fetch(`${server.url}/wopi/files/${fileId}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'nope' },
    });
    assert.equal(refused.status, 409);
    const lines = await waitFor(
      () => {
        const answered = server.stdout
          .split('\n')
          .filter((l) => l.includes('"request answered"'))
          .map((l) => JSON.parse(l) as { url: string; status: number; level: number });
        // the CheckFileInfo and the refused UNLOCK (the log also holds the start-up /healthz polls)
        return answered.some((l) => l.status === 409) &&
          answered.some((l) => l.status === 200 && l.url.startsWith('/wopi/'))
          ? answered
          : null;
      },
      10_000,
      'both requests in the log',
    );
    const cfi = lines?.find((l) => l.status === 200 && l.url.startsWith('/wopi/'));
    assert.ok(cfi, server.stdout);
    assert.equal(cfi.url, `/wopi/files/${fileId}?access_token=[redacted]`);
    assert.equal(cfi.level, 20, 'debug');
    assert.ok(server.stdout.includes('"request refused"'), 'the refusal is logged with its reason');
    assert.ok(!server.stdout.includes(token), 'the token appears nowhere in the log');
    assert.ok(!server.stderr.includes(token));
  });
});
