import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { sha256Base64 } from './helpers/misc-helpers.ts';

const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const kind of storageKinds) {
  describe(`CheckFileInfo [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('describes the file and a full-permission user with concrete values', async () => {
      const content = randomBytes(4321);
      const addedAt = host.clock.now();
      const id = await host.addFile('Budget.docx', content, 'olivia');
      const c = await host.client(id, await host.token(id, { userId: 'u-42', userName: 'Zoë Writer' }));
      const res = await c.checkFileInfo();
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const info = res.json;
      assert.equal(info.BaseFileName, 'Budget.docx');
      assert.equal(info.FileExtension, '.docx');
      assert.equal(info.OwnerId, 'olivia');
      assert.equal(info.Size, 4321);
      assert.equal(info.UserId, 'u-42');
      assert.equal(info.UserFriendlyName, 'Zoë Writer');
      assert.equal(typeof info.Version, 'string');
      assert.ok(info.Version.length > 0);
      assert.match(info.LastModifiedTime, ISO_UTC_MS);
      assert.equal(info.LastModifiedTime, new Date(addedAt).toISOString());
      assert.equal(info.SHA256, sha256Base64(content));

      assert.equal(info.UserCanWrite, true);
      assert.equal(info.ReadOnly, false);
      assert.equal(info.UserCanRename, true);
      assert.equal(info.UserCanNotWriteRelative, false);

      assert.equal(info.SupportsLocks, true);
      assert.equal(info.SupportsGetLock, true);
      assert.equal(info.SupportsExtendedLockLength, true);
      assert.equal(info.SupportsUpdate, true);
      assert.equal(info.SupportsRename, true);
      assert.equal(info.SupportsDeleteFile, true);
      assert.equal(info.SupportsUserInfo, true);
    });

    it('gives a READ_ONLY token UserCanWrite=false, ReadOnly=true, UserCanRename=false, UserCanNotWriteRelative=true', async () => {
      const id = await host.addFile('Read Only View.docx', 'r');
      const c = await host.client(id, await host.token(id, { userId: 'viewer', permissions: READ_ONLY }));
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.UserId, 'viewer');
      assert.equal(info.UserCanWrite, false);
      assert.equal(info.ReadOnly, true);
      assert.equal(info.UserCanRename, false);
      assert.equal(info.UserCanNotWriteRelative, true);
    });

    it('follows each permission of the token separately', async () => {
      const id = await host.addFile('Mixed Permissions.docx', 'm');
      const writeOnly = await host.client(
        id,
        await host.token(id, { permissions: { write: true, rename: false, delete: false, writeRelative: false } }),
      );
      const w = (await writeOnly.checkFileInfo()).json;
      assert.equal(w.UserCanWrite, true);
      assert.equal(w.ReadOnly, false);
      assert.equal(w.UserCanRename, false);
      assert.equal(w.UserCanNotWriteRelative, true);
      const renameAndRelative = await host.client(
        id,
        await host.token(id, { permissions: { write: false, rename: true, delete: false, writeRelative: true } }),
      );
      const r = (await renameAndRelative.checkFileInfo()).json;
      assert.equal(r.UserCanWrite, false);
      assert.equal(r.ReadOnly, true);
      assert.equal(r.UserCanRename, true);
      assert.equal(r.UserCanNotWriteRelative, false);
    });

    it('reports an empty file with Size 0 and the SHA-256 of no bytes', async () => {
      const c = await host.client(await host.addFile('Empty.xlsx'));
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.Size, 0);
      assert.equal(info.FileExtension, '.xlsx');
      assert.equal(info.SHA256, sha256Base64(new Uint8Array(0)));
      // the well-known SHA-256 of the empty string, independent of the helper
      const emptyHex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
      assert.equal(info.SHA256, Buffer.from(emptyHex, 'hex').toString('base64'));
    });

    it('changes Version, Size, SHA256 and LastModifiedTime after a PutFile', async () => {
      const c = await host.client(await host.addFile('Versioned.docx', 'version one'));
      const before = (await c.checkFileInfo()).json;
      host.clock.advance(1234);
      assert.equal((await c.lock('L')).status, 200);
      const next = Buffer.from('version two, longer');
      const put = await c.putFile(next, { 'X-WOPI-Lock': 'L' });
      assert.equal(put.status, 200, put.text);
      const after = (await c.checkFileInfo()).json;
      assert.notEqual(after.Version, before.Version);
      assert.equal(put.headers.get('x-wopi-itemversion'), after.Version);
      assert.equal(after.Size, next.length);
      assert.equal(after.SHA256, sha256Base64(next));
      assert.notEqual(after.SHA256, before.SHA256);
      assert.match(after.LastModifiedTime, ISO_UTC_MS);
      assert.equal(after.LastModifiedTime, new Date(host.clock.now()).toISOString());
      assert.equal(after.LastModifiedTime, put.json.LastModifiedTime);

      const put2 = await c.putFile('version three', { 'X-WOPI-Lock': 'L' });
      assert.equal(put2.status, 200, put2.text);
      const third = (await c.checkFileInfo()).json;
      assert.notEqual(third.Version, after.Version);
      assert.notEqual(third.Version, before.Version);
      assert.notEqual(third.LastModifiedTime, after.LastModifiedTime, 'two versions, two LastModifiedTimes');
    });

    it('keeps Version, SHA256 and LastModifiedTime across a rename; BaseFileName changes', async () => {
      const c = await host.client(await host.addFile('Before Rename.docx', 'same'));
      const before = (await c.checkFileInfo()).json;
      host.clock.advance(5000);
      assert.equal((await c.rename('After Rename')).status, 200);
      const after = (await c.checkFileInfo()).json;
      assert.equal(after.BaseFileName, 'After Rename.docx');
      assert.equal(after.Version, before.Version);
      assert.equal(after.SHA256, before.SHA256);
      assert.equal(after.LastModifiedTime, before.LastModifiedTime);
      assert.equal(after.FileExtension, '.docx');
    });

    it('keeps Version across Lock and Unlock', async () => {
      const c = await host.client(await host.addFile('Lock No Version.docx', 'same'));
      const before = (await c.checkFileInfo()).json.Version;
      assert.equal((await c.lock('L')).status, 200);
      assert.equal((await c.unlock('L')).status, 200);
      assert.equal((await c.checkFileInfo()).json.Version, before);
    });
  });
}
