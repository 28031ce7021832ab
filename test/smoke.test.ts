import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';

for (const kind of storageKinds) {
  describe(`edit round trip [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('locks, saves, reads back and unlocks a document over HTTP', async () => {
      const id = await host.addFile('Report.docx', 'first');
      const c = await host.client(id);
      assert.equal((await c.lock('L1')).status, 200);
      const put = await c.putFile('second', { 'X-WOPI-Lock': 'L1' });
      assert.equal(put.status, 200, put.text);
      assert.equal((await c.content()).toString(), 'second');
      const info = await c.checkFileInfo();
      assert.equal(info.json.LastModifiedTime, put.json.LastModifiedTime);
      assert.equal((await c.unlock('L1')).status, 200);
    });

    it('keeps connections alive for requests without a body, answered or refused', async () => {
      const id = await host.addFile('KeepAlive.docx', 'x');
      const c = await host.client(id);
      const agent = new Agent({ keepAlive: true });
      const connectionHeader = (method: string, suffix: string, headers: Record<string, string>) =>
        new Promise<string | undefined>((resolve, reject) => {
          request(c.fileUrl(suffix), { method, headers, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.headers.connection));
          })
            .on('error', reject)
            .end();
        });
      try {
        assert.equal(await connectionHeader('GET', '', {}), 'keep-alive', 'CheckFileInfo');
        assert.equal(await connectionHeader('GET', '/contents', {}), 'keep-alive', 'GetFile');
        assert.equal(
          await connectionHeader('POST', '', { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'K' }),
          'keep-alive',
        );
        // refused (409) without a body: still nothing to drain, so nothing to close
        assert.equal(
          await connectionHeader('POST', '', { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'J' }),
          'keep-alive',
        );
      } finally {
        agent.destroy();
      }
    });
  });
}
