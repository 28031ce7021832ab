import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { assertUnchanged, closeHost, pieces, rawPost, snapshot } from './helpers/put-helpers.ts';

const LOCK_FAILURE_REASON = 'x-wopi-lockfailurereason';

for (const kind of storageKinds) {
  describe(`PutFile [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => closeHost(host));

    const versions = (id: string) => host.quire.host.storage.catalog.listVersions(id);

    it('locked file, different X-WOPI-Lock: 409 with the current lock and a failure reason, content unchanged', async () => {
      const id = await host.addFile('mismatch.docx', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('LOCK-A')).status, 200);
      const before = await snapshot(host, c);

      const res = await c.putFile('overwritten', { 'X-WOPI-Lock': 'LOCK-B' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), 'LOCK-A');
      assert.ok(res.headers.get(LOCK_FAILURE_REASON), 'X-WOPI-LockFailureReason is missing or empty');
      assert.equal(res.headers.has('x-wopi-itemversion'), false);
      await assertUnchanged(host, c, before);
    });

    it('locked file, no X-WOPI-Lock: 409 with the current lock and a failure reason, content unchanged', async () => {
      const id = await host.addFile('nolock.docx', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('LOCK-A')).status, 200);
      const before = await snapshot(host, c);

      const res = await c.putFile('overwritten');
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), 'LOCK-A');
      assert.ok(res.headers.get(LOCK_FAILURE_REASON), 'X-WOPI-LockFailureReason is missing or empty');
      await assertUnchanged(host, c, before);
    });

    it('locked file, empty X-WOPI-Lock value: 409 with the current lock, content unchanged', async () => {
      const id = await host.addFile('emptylock.docx', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('LOCK-A')).status, 200);
      const before = await snapshot(host, c);

      const res = await c.putFile('overwritten', { 'X-WOPI-Lock': '' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), 'LOCK-A');
      await assertUnchanged(host, c, before);
    });

    it('locked file, matching X-WOPI-Lock: 200 and the body becomes the content', async () => {
      const id = await host.addFile('match.docx', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('LOCK-A')).status, 200);
      const res = await c.putFile('saved', { 'X-WOPI-Lock': 'LOCK-A' });
      assert.equal(res.status, 200, res.text);
      assert.equal((await c.content()).toString(), 'saved');
      assert.equal((await c.checkFileInfo()).json.Size, 5);
    });

    it('unlocked empty file, no X-WOPI-Lock: accepted (ONLYOFFICE template fill)', async () => {
      const id = await host.addFile('new-nolock.docx', '');
      const c = await host.client(id);
      const before = await snapshot(host, c);
      assert.equal(before.size, 0);

      const res = await c.putFile('template bytes', {
        'X-WOPI-Editors': 'alice',
        'X-LOOL-WOPI-IsModifiedByUser': 'false',
        'X-LOOL-WOPI-IsAutosave': 'false',
        'X-LOOL-WOPI-IsExitSave': 'false',
      });
      assert.equal(res.status, 200, res.text);
      assert.equal((await c.content()).toString(), 'template bytes');
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.Size, 'template bytes'.length);
      assert.notEqual(info.Version, before.version);
      assert.equal(res.json?.LastModifiedTime, info.LastModifiedTime);
    });

    it('unlocked empty file, a random X-WOPI-Lock: accepted', async () => {
      const id = await host.addFile('new-randomlock.docx', '');
      const c = await host.client(id);
      const lock = `random-${randomBytes(8).toString('hex')}`;
      const res = await c.putFile('filled', { 'X-WOPI-Lock': lock });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.has('x-wopi-lock'), false);
      assert.equal((await c.content()).toString(), 'filled');
      // accepting the write does not lock the file
      const getLock = await c.getLock();
      assert.equal(getLock.status, 200, getLock.text);
      assert.equal(getLock.headers.get('x-wopi-lock'), '');
    });

    it('unlocked non-empty file, no X-WOPI-Lock: 409 with X-WOPI-Lock present and empty, content unchanged', async () => {
      const id = await host.addFile('unlocked-nolock.docx', 'has content');
      const c = await host.client(id);
      const before = await snapshot(host, c);

      const res = await c.putFile('overwritten');
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.has('x-wopi-lock'), true, 'X-WOPI-Lock header must be present');
      assert.equal(res.headers.get('x-wopi-lock'), '');
      await assertUnchanged(host, c, before);
    });

    it('unlocked non-empty file, some X-WOPI-Lock: 409 with X-WOPI-Lock present and empty, content unchanged', async () => {
      const id = await host.addFile('unlocked-lock.docx', 'has content');
      const c = await host.client(id);
      const before = await snapshot(host, c);

      const res = await c.putFile('overwritten', { 'X-WOPI-Lock': 'NOT-HELD' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.has('x-wopi-lock'), true, 'X-WOPI-Lock header must be present');
      assert.equal(res.headers.get('x-wopi-lock'), '');
      await assertUnchanged(host, c, before);
    });

    it('a file that was filled while empty is then protected: the next unlocked write is 409', async () => {
      const id = await host.addFile('filled-then.docx', '');
      const c = await host.client(id);
      assert.equal((await c.putFile('first')).status, 200);
      const before = await snapshot(host, c);
      const res = await c.putFile('second');
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), '');
      await assertUnchanged(host, c, before);
    });

    it('an expired lock no longer counts: the file is unlocked and non-empty, so 409 with X-WOPI-Lock ""', async () => {
      const id = await host.addFile('expired-lock.docx', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('OLD-LOCK')).status, 200);
      host.clock.advance(30 * 60 * 1000 + 1);
      const before = await snapshot(host, c);

      const res = await c.putFile('late save', { 'X-WOPI-Lock': 'OLD-LOCK' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.has('x-wopi-lock'), true, 'X-WOPI-Lock header must be present');
      assert.equal(res.headers.get('x-wopi-lock'), '');
      await assertUnchanged(host, c, before);
    });

    it('a file that does not exist: 404', async () => {
      const c = await host.client('0123456789abcdef01234567');
      const res = await c.putFile('x', { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 404, res.text);
    });

    it('locked by another client: 409 still carries the current lock id', async () => {
      const id = await host.addFile('other-client.docx', 'theirs');
      const owner = await host.client(id, await host.token(id, { userId: 'alice', userName: 'Alice' }));
      const other = await host.client(id, await host.token(id, { userId: 'bob', userName: 'Bob' }));
      assert.equal((await owner.lock('alice-session-lock')).status, 200);
      const before = await snapshot(host, owner);

      const withOwnLock = await other.putFile('bob was here', { 'X-WOPI-Lock': 'bob-session-lock' });
      assert.equal(withOwnLock.status, 409, withOwnLock.text);
      assert.equal(withOwnLock.headers.get('x-wopi-lock'), 'alice-session-lock');

      const withoutLock = await other.putFile('bob was here');
      assert.equal(withoutLock.status, 409, withoutLock.text);
      assert.equal(withoutLock.headers.get('x-wopi-lock'), 'alice-session-lock');

      await assertUnchanged(host, owner, before);
    });

    it('200: X-WOPI-ItemVersion is new and equals CheckFileInfo Version; no X-WOPI-Lock; JSON LastModifiedTime equals CheckFileInfo', async () => {
      const id = await host.addFile('ok-response.docx', 'v1');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const before = await snapshot(host, c);
      host.clock.advance(1234);

      const res = await c.putFile('v2', { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.has('x-wopi-lock'), false, 'X-WOPI-Lock must not be sent with 200');
      const itemVersion = res.headers.get('x-wopi-itemversion');
      assert.ok(itemVersion, 'X-WOPI-ItemVersion is missing');
      assert.notEqual(itemVersion, before.version);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(typeof res.json?.LastModifiedTime, 'string', `body: ${res.text}`);
      assert.deepEqual(Object.keys(res.json), ['LastModifiedTime']);

      const info = (await c.checkFileInfo()).json;
      assert.equal(info.Version, itemVersion);
      assert.equal(res.json.LastModifiedTime, info.LastModifiedTime);
      assert.notEqual(info.LastModifiedTime, before.lastModifiedTime);
      assert.ok(Date.parse(info.LastModifiedTime) > Date.parse(before.lastModifiedTime));
    });

    it('two saves in the same millisecond give different LastModifiedTime strings and different Versions', async () => {
      const id = await host.addFile('same-ms.docx', 'v1');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const start = await snapshot(host, c);

      const first = await c.putFile('v2', { 'X-WOPI-Lock': 'L' });
      const second = await c.putFile('v3', { 'X-WOPI-Lock': 'L' });
      assert.equal(first.status, 200, first.text);
      assert.equal(second.status, 200, second.text);

      const times = [start.lastModifiedTime, first.json.LastModifiedTime, second.json.LastModifiedTime];
      assert.equal(new Set(times).size, 3, `LastModifiedTime repeats: ${times.join(', ')}`);
      const itemVersions = [
        start.version,
        first.headers.get('x-wopi-itemversion'),
        second.headers.get('x-wopi-itemversion'),
      ];
      assert.equal(new Set(itemVersions).size, 3, `Version repeats: ${itemVersions.join(', ')}`);
      assert.ok(Date.parse(second.json.LastModifiedTime) > Date.parse(first.json.LastModifiedTime));

      const info = (await c.checkFileInfo()).json;
      assert.equal(info.LastModifiedTime, second.json.LastModifiedTime);
      assert.equal(info.Version, second.headers.get('x-wopi-itemversion'));
      assert.equal((await c.content()).toString(), 'v3');
    });

    it('X-WOPI-Editors and X-LOOL-WOPI-IsModifiedByUser/IsAutosave/IsExitSave are recorded with the new version', async () => {
      const id = await host.addFile('flags-lool.docx', 'v1');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const res = await c.putFile('v2', {
        'X-WOPI-Lock': 'L',
        'X-WOPI-Editors': 'alice,bob',
        'X-LOOL-WOPI-IsModifiedByUser': 'true',
        'X-LOOL-WOPI-IsAutosave': 'false',
        'X-LOOL-WOPI-IsExitSave': 'true',
      });
      assert.equal(res.status, 200, res.text);
      const [head] = await versions(id);
      assert.ok(head);
      assert.equal(String(head.version), res.headers.get('x-wopi-itemversion'));
      assert.equal(head.editors, 'alice,bob');
      assert.equal(head.modifiedByUser, true);
      assert.equal(head.autosave, false);
      assert.equal(head.exitSave, true);
      assert.equal(head.size, 2);
    });

    it('X-COOL-WOPI-IsModifiedByUser/IsAutosave/IsExitSave are recorded with the new version', async () => {
      const id = await host.addFile('flags-cool.docx', 'v1');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const res = await c.putFile('v2', {
        'X-WOPI-Lock': 'L',
        'X-WOPI-Editors': 'carol',
        'X-COOL-WOPI-IsModifiedByUser': 'false',
        'X-COOL-WOPI-IsAutosave': 'true',
        'X-COOL-WOPI-IsExitSave': 'false',
      });
      assert.equal(res.status, 200, res.text);
      const [head] = await versions(id);
      assert.ok(head);
      assert.equal(String(head.version), res.headers.get('x-wopi-itemversion'));
      assert.equal(head.editors, 'carol');
      assert.equal(head.modifiedByUser, false);
      assert.equal(head.autosave, true);
      assert.equal(head.exitSave, false);
    });

    it('the template fill (no lock, ONLYOFFICE headers) records editors and the three false flags', async () => {
      const id = await host.addFile('flags-template.docx', '');
      const c = await host.client(id);
      const res = await c.putFile('template', {
        'X-WOPI-Editors': 'alice',
        'X-LOOL-WOPI-IsModifiedByUser': 'false',
        'X-LOOL-WOPI-IsAutosave': 'false',
        'X-LOOL-WOPI-IsExitSave': 'false',
      });
      assert.equal(res.status, 200, res.text);
      const [head] = await versions(id);
      assert.ok(head);
      assert.equal(head.editors, 'alice');
      assert.equal(head.modifiedByUser, false);
      assert.equal(head.autosave, false);
      assert.equal(head.exitSave, false);
    });

    it('a save without those headers records no editors and no flags', async () => {
      const id = await host.addFile('flags-none.docx', 'v1');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      assert.equal((await c.putFile('v2', { 'X-WOPI-Lock': 'L' })).status, 200);
      const [head] = await versions(id);
      assert.ok(head);
      assert.equal(head.editors, undefined);
      assert.equal(head.modifiedByUser, undefined);
      assert.equal(head.autosave, undefined);
      assert.equal(head.exitSave, undefined);
      assert.equal(head.authorId, 'alice');
    });

    it('a read-only token gets 401 and the file is unchanged', async () => {
      const id = await host.addFile('readonly.docx', 'original');
      const writer = await host.client(id);
      assert.equal((await writer.lock('L')).status, 200);
      const reader = await host.client(id, await host.token(id, { permissions: READ_ONLY }));
      const before = await snapshot(host, writer);

      const res = await reader.putFile('overwritten', { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 401, res.text);
      await assertUnchanged(host, writer, before);
    });

    it('a read-only token gets 401 on an unlocked empty file too', async () => {
      const id = await host.addFile('readonly-empty.docx', '');
      const writer = await host.client(id);
      const reader = await host.client(id, await host.token(id, { permissions: READ_ONLY }));
      const before = await snapshot(host, writer);
      const res = await reader.putFile('filled');
      assert.equal(res.status, 401, res.text);
      await assertUnchanged(host, writer, before);
    });

    it('an empty body on a locked file is a valid save: size becomes 0', async () => {
      const id = await host.addFile('empty-body.docx', 'something');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const before = await snapshot(host, c);

      const res = await c.putFile('', { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 200, res.text);
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.Size, 0);
      assert.notEqual(info.Version, before.version);
      assert.equal(info.Version, res.headers.get('x-wopi-itemversion'));
      assert.equal(info.SHA256, createHash('sha256').update(Buffer.alloc(0)).digest('base64'));
      assert.equal((await c.content()).length, 0);
      assert.equal((await versions(id))[0]?.size, 0);
    });

    it('a 5 MB random body round-trips byte for byte and SHA256 matches', async () => {
      const body = randomBytes(5 * 1024 * 1024);
      const id = await host.addFile('big.bin', 'small');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);

      const res = await c.putFile(body, { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 200, res.text);
      const back = await c.content();
      assert.equal(back.length, body.length);
      assert.ok(back.equals(body), 'GetFile returned different bytes');
      const info = (await c.checkFileInfo()).json;
      assert.equal(info.Size, body.length);
      assert.equal(info.SHA256, createHash('sha256').update(body).digest('base64'));
    });
  });

  describe(`PutFile size limit [${kind.name}]`, () => {
    const MAX = 1000;
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, maxUploadBytes: MAX });
    });
    after(() => closeHost(host));

    const contentsUrl = (c: { fileUrl(suffix?: string): string }) => c.fileUrl('/contents');

    it('a body of exactly the maximum is accepted', async () => {
      const id = await host.addFile('limit-exact.bin', 'x');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const body = randomBytes(MAX);
      const res = await c.putFile(body, { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 200, res.text);
      assert.ok((await c.content()).equals(body));
    });

    it('a body larger than the maximum, Content-Length known: 413 and nothing changes', async () => {
      const id = await host.addFile('limit-cl.bin', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const before = await snapshot(host, c);

      const res = await c.putFile(randomBytes(MAX + 1), { 'X-WOPI-Lock': 'L' });
      assert.equal(res.status, 413, res.text);
      await assertUnchanged(host, c, before);
    });

    it('a much larger body with Content-Length, streamed: 413 and nothing changes', async () => {
      const id = await host.addFile('limit-cl-big.bin', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const before = await snapshot(host, c);

      const res = await rawPost(
        contentsUrl(c),
        { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        pieces(randomBytes(64 * 1024), 4096),
        // the size is known from the headers: the answer may come before any of the body
        { chunked: false, awaitAnswerAfterBytes: 0 },
      );
      assert.equal(res.status, 413, res.text);
      await assertUnchanged(host, c, before);
    });

    it('a chunked body (no Content-Length) within the maximum is accepted', async () => {
      const id = await host.addFile('limit-chunked-ok.bin', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const body = randomBytes(900);
      const res = await rawPost(contentsUrl(c), { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, pieces(body, 100), {
        chunked: true,
        pauseMs: 2,
      });
      assert.equal(res.status, 200, res.text);
      assert.ok((await c.content()).equals(body));
    });

    it('a chunked body (no Content-Length) larger than the maximum: 413 and nothing changes', async () => {
      const id = await host.addFile('limit-chunked.bin', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const before = await snapshot(host, c);

      const res = await rawPost(
        contentsUrl(c),
        { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        pieces(randomBytes(3 * MAX), 200),
        { chunked: true, pauseMs: 2, awaitAnswerAfterBytes: MAX + 1 },
      );
      assert.equal(res.status, 413, res.text);
      await assertUnchanged(host, c, before);
    });

    it('after a refused oversize upload the host still serves saves normally', async () => {
      const id = await host.addFile('limit-after.bin', 'original');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const refused = await rawPost(
        contentsUrl(c),
        { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' },
        pieces(randomBytes(2 * MAX), 250),
        { chunked: true, pauseMs: 2, awaitAnswerAfterBytes: MAX + 1 },
      );
      assert.equal(refused.status, 413, refused.text);
      const ok = await c.putFile('fine', { 'X-WOPI-Lock': 'L' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await c.content()).toString(), 'fine');
    });
  });
}
