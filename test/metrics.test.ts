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
    const res = await fetch(`${host.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.equal(counter(text, 'LOCK', 200) - counter(before, 'LOCK', 200), 1);
    assert.equal(counter(text, 'LOCK', 409) - counter(before, 'LOCK', 409), 1);
    assert.equal(counter(text, 'CHECK_FILE_INFO', 200) - counter(before, 'CHECK_FILE_INFO', 200), 1);
    assert.equal(counter(text, 'GET_FILE', 200) - counter(before, 'GET_FILE', 200), 1);
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
