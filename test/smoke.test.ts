import assert from 'node:assert/strict';
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
  });
}
