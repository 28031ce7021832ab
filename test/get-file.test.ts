import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { itemVersionOf, sha256Base64 } from './helpers/misc-helpers.ts';

for (const kind of storageKinds) {
  describe(`GetFile [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('streams a few MB of random bytes back byte for byte', async () => {
      const content = randomBytes(5 * 1024 * 1024 + 7);
      const c = await host.client(await host.addFile('Big.bin.docx', content));
      const res = await c.getFile();
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(res.bytes.length, content.length);
      assert.ok(res.bytes.equals(content), 'GetFile must return exactly the stored bytes');
      assert.equal(res.headers.get('content-length'), String(content.length));
    });

    it('serves a read-only token too', async () => {
      const id = await host.addFile('Read Only Get.docx', 'readable');
      const ro = await host.client(id, await host.token(id, { permissions: READ_ONLY }));
      const res = await ro.getFile();
      assert.equal(res.status, 200);
      assert.equal(res.text, 'readable');
    });

    it('serves an empty file as 200 with no bytes', async () => {
      const c = await host.client(await host.addFile('Empty Get.docx'));
      const res = await c.getFile();
      assert.equal(res.status, 200);
      assert.equal(res.bytes.length, 0);
    });

    it('sends X-WOPI-ItemVersion equal to CheckFileInfo Version, before and after a PutFile', async () => {
      const c = await host.client(await host.addFile('Item Version Get.docx', 'one'));
      const first = await c.getFile();
      const v1 = (await c.checkFileInfo()).json.Version;
      assert.equal(itemVersionOf(first), v1);

      assert.equal((await c.lock('L')).status, 200);
      const next = randomBytes(70_000);
      const put = await c.putFile(next, { 'X-WOPI-Lock': 'L' });
      assert.equal(put.status, 200, put.text);
      const second = await c.getFile();
      const info = (await c.checkFileInfo()).json;
      assert.notEqual(info.Version, v1);
      assert.equal(itemVersionOf(second), info.Version);
      assert.ok(second.bytes.equals(next), 'GetFile returns the new version');
      assert.equal(sha256Base64(second.bytes), info.SHA256);
    });

    it('answers 412 when X-WOPI-MaxExpectedSize is smaller than the file', async () => {
      const c = await host.client(await host.addFile('Max Smaller.docx', randomBytes(1000)));
      const res = await c.getFile({ 'X-WOPI-MaxExpectedSize': '999' });
      assert.equal(res.status, 412, res.text);
      const zero = await c.getFile({ 'X-WOPI-MaxExpectedSize': '0' });
      assert.equal(zero.status, 412, zero.text);
    });

    it('answers 200 with the content when X-WOPI-MaxExpectedSize is equal to or larger than the file', async () => {
      const content = randomBytes(1000);
      const c = await host.client(await host.addFile('Max Equal.docx', content));
      const equal = await c.getFile({ 'X-WOPI-MaxExpectedSize': '1000' });
      assert.equal(equal.status, 200, equal.text);
      assert.ok(equal.bytes.equals(content));
      const larger = await c.getFile({ 'X-WOPI-MaxExpectedSize': '1001' });
      assert.equal(larger.status, 200, larger.text);
      assert.ok(larger.bytes.equals(content));
      const huge = await c.getFile({ 'X-WOPI-MaxExpectedSize': String(2 ** 40) });
      assert.equal(huge.status, 200, huge.text);
    });

    it('answers 400 to a non-numeric X-WOPI-MaxExpectedSize', async () => {
      const c = await host.client(await host.addFile('Max Garbage.docx', 'x'));
      for (const bad of ['lots', '12abc', '-1', '1.5']) {
        const res = await c.getFile({ 'X-WOPI-MaxExpectedSize': bad });
        assert.equal(res.status, 400, `X-WOPI-MaxExpectedSize: ${bad} → ${res.status} ${res.text}`);
      }
    });
  });
}
