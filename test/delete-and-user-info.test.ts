import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';

for (const kind of storageKinds) {
  describe(`DeleteFile [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('deletes an unlocked file: 200, then CheckFileInfo and GetFile answer 404', async () => {
      const id = await host.addFile('Delete Me.docx', 'bye');
      const c = await host.client(id);
      const res = await c.deleteFile();
      assert.equal(res.status, 200, res.text);
      assert.equal((await c.checkFileInfo()).status, 404);
      assert.equal((await c.getFile()).status, 404);
      assert.equal(await host.quire.host.storage.catalog.findByName('Delete Me.docx'), null);
    });

    it('frees the name of a deleted file for a new one', async () => {
      const c = await host.client(await host.addFile('Reused Name.docx', 'old'));
      assert.equal((await c.deleteFile()).status, 200);
      const again = await host.client(await host.addFile('Reused Name.docx', 'new'));
      assert.equal((await again.checkFileInfo()).json.BaseFileName, 'Reused Name.docx');
    });

    it('refuses to delete a locked file: 409 with X-WOPI-Lock, file and lock still there', async () => {
      const c = await host.client(await host.addFile('Locked Delete.docx', 'stay'));
      assert.equal((await c.lock('HELD')).status, 200);
      const res = await c.deleteFile();
      assert.equal(res.status, 409, res.text);
      assert.equal(lockOf(res), 'HELD');
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200);
      assert.equal(info.json.BaseFileName, 'Locked Delete.docx');
      assert.equal((await c.content()).toString(), 'stay');
      assert.equal(lockOf(await c.getLock()), 'HELD');
    });

    it('refuses to delete a locked file even when the request carries its lock', async () => {
      const c = await host.client(await host.addFile('Locked Delete With Lock.docx', 'stay'));
      assert.equal((await c.lock('HELD')).status, 200);
      const res = await c.deleteFile({ 'X-WOPI-Lock': 'HELD' });
      assert.equal(res.status, 409, res.text);
      assert.equal(lockOf(res), 'HELD');
      assert.equal((await c.checkFileInfo()).status, 200);
    });

    it('answers 401 to a read-only token and keeps the file', async () => {
      const id = await host.addFile('Read Only Delete.docx', 'stay');
      const ro = await host.client(id, await host.token(id, { permissions: READ_ONLY }));
      const res = await ro.deleteFile();
      assert.equal(res.status, 401, res.text);
      const info = await ro.checkFileInfo();
      assert.equal(info.status, 200);
      assert.equal(info.json.BaseFileName, 'Read Only Delete.docx');
    });
  });

  describe(`PutUserInfo [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('CheckFileInfo says SupportsUserInfo: true and has no UserInfo before any PutUserInfo', async () => {
      const c = await host.client(await host.addFile('No Info.docx', 'x'));
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.SupportsUserInfo, true);
      assert.equal(info.UserInfo, undefined);
    });

    it('stores the body for this user and file and returns it as UserInfo to that user only', async () => {
      const id = await host.addFile('User Info.docx', 'x');
      const alice = await host.client(id, await host.token(id, { userId: 'alice' }));
      const bob = await host.client(id, await host.token(id, { userId: 'bob' }));
      const stored = '{"theme":"dark","recent":["Straße","日本"]}';
      const res = await alice.putUserInfo(stored);
      assert.equal(res.status, 200, res.text);
      assert.equal((await alice.checkFileInfo()).json.UserInfo, stored);
      const bobInfo = (await bob.checkFileInfo()).json;
      assert.equal(bobInfo.UserId, 'bob');
      assert.equal(bobInfo.UserInfo, undefined, 'another user must not see alice’s UserInfo');
    });

    it('keeps UserInfo per file: the same user sees none on another file', async () => {
      const a = await host.client(await host.addFile('Info A.docx', 'a'));
      const b = await host.client(await host.addFile('Info B.docx', 'b'));
      assert.equal((await a.putUserInfo('for A')).status, 200);
      assert.equal((await a.checkFileInfo()).json.UserInfo, 'for A');
      assert.equal((await b.checkFileInfo()).json.UserInfo, undefined);
    });

    it('replaces earlier UserInfo with the latest PutUserInfo', async () => {
      const c = await host.client(await host.addFile('Info Replace.docx', 'x'));
      assert.equal((await c.putUserInfo('first')).status, 200);
      assert.equal((await c.putUserInfo('second')).status, 200);
      assert.equal((await c.checkFileInfo()).json.UserInfo, 'second');
    });
  });

  describe(`X-WOPI-Override dispatch [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('answers 501 to an unknown override ("FOO") and changes nothing', async () => {
      const c = await host.client(await host.addFile('Override Foo.docx', 'x'));
      const res = await c.override('FOO');
      assert.equal(res.status, 501, res.text);
      assert.equal((await c.content()).toString(), 'x');
    });

    it('answers 501 to PUT on /wopi/files/{id} (PutFile belongs on /contents) and leaves the content', async () => {
      const c = await host.client(await host.addFile('Override Put.docx', 'x'));
      assert.equal((await c.lock('L')).status, 200);
      const res = await c.override('PUT', { 'X-WOPI-Lock': 'L' }, 'replaced');
      assert.equal(res.status, 501, res.text);
      assert.equal((await c.content()).toString(), 'x');
    });

    it('answers 501 to a file-level override (LOCK) sent to /contents', async () => {
      const c = await host.client(await host.addFile('Override Contents Lock.docx', 'x'));
      const res = await c.request('POST', '/contents', { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 501, res.text);
      assert.equal(lockOf(await c.getLock()), '');
    });

    it('answers 400 to a POST without X-WOPI-Override, on the file and on /contents', async () => {
      const c = await host.client(await host.addFile('Override Missing.docx', 'x'));
      const res = await c.request('POST', '', { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 400, res.text);
      const res2 = await c.request('POST', '/contents', {}, 'replaced');
      assert.equal(res2.status, 400, res2.text);
      assert.equal(lockOf(await c.getLock()), '');
      assert.equal((await c.content()).toString(), 'x');
    });
  });
}
