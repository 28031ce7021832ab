import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHost, type TestHost } from './helpers/host.ts';

const counter = (text: string, operation: string, status: number) => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`quire_wopi_requests_total{operation="${operation}",status="${status}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('Prometheus metrics', () => {
  let host: TestHost;
  before(async () => {
    host = await startHost({ metrics: true });
  });
  after(() => host.close());

  it('counts WOPI requests by operation and status, and times them', async () => {
    const c = await host.client(await host.addFile('Counted.docx', 'x'));
    const before = await (await fetch(`${host.url}/metrics`)).text();
    assert.equal((await c.lock('L')).status, 200);
    assert.equal((await c.lock('other')).status, 409);
    assert.equal((await c.checkFileInfo()).status, 200);
    assert.equal((await c.getFile()).status, 200);
    // Requests are counted when their response has finished, which can be just after the client has read it:
    // read the metrics until the last request shows (bounded), then check every count.
    let res: Response;
    let text = '';
    let attempt = 0;
    for (; attempt < 200; attempt++) {
      res = await fetch(`${host.url}/metrics`);
      text = await res.text();
      const seen = (op: string, status: number) => counter(text, op, status) > counter(before, op, status);
      if (seen('LOCK', 200) && seen('LOCK', 409) && seen('CHECK_FILE_INFO', 200) && seen('GET_FILE', 200)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(res!.status, 200);
    assert.match(res!.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(counter(text, 'LOCK', 200) - counter(before, 'LOCK', 200), 1);
    assert.equal(counter(text, 'LOCK', 409) - counter(before, 'LOCK', 409), 1);
    assert.equal(counter(text, 'CHECK_FILE_INFO', 200) - counter(before, 'CHECK_FILE_INFO', 200), 1);
    assert.equal(
      counter(text, 'GET_FILE', 200) - counter(before, 'GET_FILE', 200),
      1,
      `after ${attempt} reads:\n${text
        .split('\n')
        .filter((l) => l.startsWith('quire_wopi_requests_total'))
        .join('\n')}`,
    );
    assert.match(text, /quire_wopi_request_duration_seconds_count\{operation="LOCK"\} 2/);
    assert.match(text, /quire_process_resident_memory_bytes/);
  });

  it('is off unless asked for', async () => {
    const plain = await startHost();
    try {
      assert.equal((await fetch(`${plain.url}/metrics`)).status, 404);
    } finally {
      await plain.close();
    }
  });
});
