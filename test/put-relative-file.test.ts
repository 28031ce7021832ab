import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { ALL_PERMISSIONS } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost, utf7, WopiClient } from './helpers/host.ts';
import { assertUnchanged, closeHost, fileIdOfUrl, fileIds, snapshot } from './helpers/put-helpers.ts';

/** Characters no file name may hold (Windows' list, which WOPI hosts follow). */
const ILLEGAL_NAME_CHARS = /[/\\:*?"<>|]/;

const decodeUtf7 = (raw: string) => iconv.decode(Buffer.from(raw, 'ascii'), 'utf7');

for (const kind of storageKinds) {
  describe(`PutRelativeFile [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => closeHost(host));

    const catalog = () => host.quire.host.storage.catalog;

    /** A PutRelativeFile that must succeed; returns the JSON body and the new file's id. */
    async function createRelative(c: WopiClient, body: string | Uint8Array, headers: Record<string, string>) {
      const res = await c.putRelative(body, headers);
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.json?.Name, 'string', `body: ${res.text}`);
      assert.equal(typeof res.json?.Url, 'string', `body: ${res.text}`);
      return { res, json: res.json, newId: fileIdOfUrl(res.json.Url) };
    }

    /** A client for the file PutRelativeFile created, using the token its Url carries. */
    function clientForUrl(url: string): WopiClient {
      const parsed = new URL(url);
      const token = parsed.searchParams.get('access_token');
      assert.ok(token, `Url has no access_token: ${url}`);
      return new WopiClient(host.url, fileIdOfUrl(url), token);
    }

    it('source locked, request with a different X-WOPI-Lock: 409 with the current lock, nothing created', async () => {
      const id = await host.addFile('locked-source.docx', 'source');
      const c = await host.client(id);
      assert.equal((await c.lock('SOURCE-LOCK')).status, 200);
      const filesBefore = await fileIds(host);
      const sourceBefore = await snapshot(host, c);

      const res = await c.putRelative('copy', {
        'X-WOPI-SuggestedTarget': utf7('copy-of-locked.docx'),
        'X-WOPI-Lock': 'OTHER-LOCK',
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), 'SOURCE-LOCK');
      assert.deepEqual(await fileIds(host), filesBefore);
      assert.equal(await catalog().findByName('copy-of-locked.docx'), null);
      await assertUnchanged(host, c, sourceBefore);
    });

    it('source locked, request with NO X-WOPI-Lock: accepted (ONLYOFFICE Save Copy As)', async () => {
      const id = await host.addFile('save-copy-as.docx', 'source');
      const c = await host.client(id);
      assert.equal((await c.lock('ONLYOFFICE-LOCK')).status, 200);
      const sourceBefore = await snapshot(host, c);

      const { json, newId } = await createRelative(c, 'the copy', {
        'X-WOPI-SuggestedTarget': utf7('save-copy-as copy.docx'),
      });
      assert.equal(json.Name, 'save-copy-as copy.docx');
      assert.notEqual(newId, id);
      assert.equal((await clientForUrl(json.Url).content()).toString(), 'the copy');
      await assertUnchanged(host, c, sourceBefore);
      // the source keeps its lock
      const getLock = await c.getLock();
      assert.equal(getLock.headers.get('x-wopi-lock'), 'ONLYOFFICE-LOCK');
    });

    it('source locked, request with the matching X-WOPI-Lock: accepted', async () => {
      const id = await host.addFile('matching-lock.docx', 'source');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const { json } = await createRelative(c, 'copy', {
        'X-WOPI-SuggestedTarget': utf7('matching-lock copy.docx'),
        'X-WOPI-Lock': 'L',
      });
      assert.equal(json.Name, 'matching-lock copy.docx');
    });

    it('SuggestedTarget that is only an extension: the source base name plus that extension', async () => {
      const id = await host.addFile('Quarterly Report.docx', 'docx bytes');
      const c = await host.client(id);
      const { json, newId } = await createRelative(c, 'pdf bytes', { 'X-WOPI-SuggestedTarget': utf7('.pdf') });
      assert.equal(json.Name, 'Quarterly Report.pdf');
      assert.equal((await catalog().getFile(newId))?.name, 'Quarterly Report.pdf');
      const info = await clientForUrl(json.Url).checkFileInfo();
      assert.equal(info.json.BaseFileName, 'Quarterly Report.pdf');
      assert.equal((await clientForUrl(json.Url).content()).toString(), 'pdf bytes');
    });

    it('SuggestedTarget that is a full name: that name', async () => {
      const id = await host.addFile('full-source.docx', 'x');
      const c = await host.client(id);
      const { json } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': utf7('Completely Different.xlsx') });
      assert.equal(json.Name, 'Completely Different.xlsx');
    });

    it('SuggestedTarget with non-ASCII characters (UTF-7) comes back decoded', async () => {
      const id = await host.addFile('unicode-source.docx', 'x');
      const c = await host.client(id);
      const name = 'Résumé 日本語.docx';
      const encoded = utf7(name);
      assert.match(encoded, /^[\x20-\x7e]+$/, 'the header value must be plain ASCII');
      const { json, newId } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': encoded });
      assert.equal(json.Name, name);
      assert.equal((await catalog().getFile(newId))?.name, name);
      assert.equal((await clientForUrl(json.Url).checkFileInfo()).json.BaseFileName, name);
    });

    it('SuggestedTarget with other non-ASCII scripts and emoji (UTF-7) comes back decoded', async () => {
      const id = await host.addFile('unicode-source-2.docx', 'x');
      const c = await host.client(id);
      const name = 'Ελληνικά Привет 📄.pptx';
      const { json } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': utf7(name) });
      assert.equal(json.Name, name);
    });

    it('SuggestedTarget holding "+" (written "+-" in UTF-7) comes back decoded', async () => {
      const id = await host.addFile('plus-source.docx', 'x');
      const c = await host.client(id);
      const { json } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': utf7('C++ notes.docx') });
      assert.equal(json.Name, 'C++ notes.docx');
    });

    it('SuggestedTarget with illegal characters: the host makes a legal name and keeps the extension', async () => {
      const id = await host.addFile('illegal-source.docx', 'x');
      const c = await host.client(id);
      const { json, newId } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': utf7('a/b:c?.docx') });
      assert.doesNotMatch(json.Name, ILLEGAL_NAME_CHARS);
      assert.ok(json.Name.endsWith('.docx'), `extension lost: ${json.Name}`);
      assert.ok(json.Name.length > '.docx'.length, `base name lost: ${json.Name}`);
      assert.equal((await catalog().getFile(newId))?.name, json.Name);
    });

    it('SuggestedTarget made only of illegal characters still gives a legal name with the extension', async () => {
      const id = await host.addFile('illegal-source-2.docx', 'x');
      const c = await host.client(id);
      const { json } = await createRelative(c, 'y', { 'X-WOPI-SuggestedTarget': utf7('<>|*"\\.xlsx') });
      assert.doesNotMatch(json.Name, ILLEGAL_NAME_CHARS);
      assert.ok(json.Name.endsWith('.xlsx'), `extension lost: ${json.Name}`);
      assert.ok(json.Name.length > '.xlsx'.length, `base name lost: ${json.Name}`);
    });

    it('SuggestedTarget naming an existing file never overwrites: "Name (1).ext", then "Name (2).ext"', async () => {
      const id = await host.addFile('Budget.xlsx', 'original budget');
      const c = await host.client(id);
      const before = await snapshot(host, c);

      const first = await createRelative(c, 'copy one', { 'X-WOPI-SuggestedTarget': utf7('Budget.xlsx') });
      assert.equal(first.json.Name, 'Budget (1).xlsx');
      assert.notEqual(first.newId, id);
      const second = await createRelative(c, 'copy two', { 'X-WOPI-SuggestedTarget': utf7('Budget.xlsx') });
      assert.equal(second.json.Name, 'Budget (2).xlsx');
      assert.notEqual(second.newId, first.newId);

      await assertUnchanged(host, c, before);
      assert.equal((await catalog().findByName('Budget.xlsx'))?.id, id);
      assert.equal((await clientForUrl(first.json.Url).content()).toString(), 'copy one');
      assert.equal((await clientForUrl(second.json.Url).content()).toString(), 'copy two');
    });

    it('an extension-only SuggestedTarget that matches the source name does not overwrite the source', async () => {
      const id = await host.addFile('Same.docx', 'source');
      const c = await host.client(id);
      const before = await snapshot(host, c);
      const { json, newId } = await createRelative(c, 'copy', { 'X-WOPI-SuggestedTarget': utf7('.docx') });
      assert.equal(json.Name, 'Same (1).docx');
      assert.notEqual(newId, id);
      await assertUnchanged(host, c, before);
    });

    it('RelativeTarget: the exact name is used', async () => {
      const id = await host.addFile('rt-source.docx', 'x');
      const c = await host.client(id);
      const { json, newId } = await createRelative(c, 'exact', { 'X-WOPI-RelativeTarget': utf7('Exact Name é.docx') });
      assert.equal(json.Name, 'Exact Name é.docx');
      assert.equal((await catalog().getFile(newId))?.name, 'Exact Name é.docx');
      assert.equal((await clientForUrl(json.Url).content()).toString(), 'exact');
    });

    it('RelativeTarget naming an existing file: 409 with X-WOPI-ValidRelativeTarget (a free name), nothing changed', async () => {
      const sourceId = await host.addFile('rt-src-2.docx', 'x');
      const existingId = await host.addFile('Taken.docx', 'taken content');
      const c = await host.client(sourceId);
      const existing = await host.client(existingId);
      const existingBefore = await snapshot(host, existing);
      const filesBefore = await fileIds(host);

      const res = await c.putRelative('would overwrite', { 'X-WOPI-RelativeTarget': utf7('Taken.docx') });
      assert.equal(res.status, 409, res.text);
      const valid = res.headers.get('x-wopi-validrelativetarget');
      assert.ok(valid, 'X-WOPI-ValidRelativeTarget is missing');
      const validName = decodeUtf7(valid);
      assert.notEqual(validName.toLowerCase(), 'taken.docx');
      assert.ok(validName.endsWith('.docx'), `suggested name lost the extension: ${validName}`);
      assert.doesNotMatch(validName, ILLEGAL_NAME_CHARS);
      assert.equal(await catalog().findByName(validName), null, `${validName} is not free`);
      assert.deepEqual(await fileIds(host), filesBefore);
      await assertUnchanged(host, existing, existingBefore);

      // and the name it offers is accepted as it is
      const retry = await createRelative(c, 'new', { 'X-WOPI-RelativeTarget': valid });
      assert.equal(retry.json.Name, validName);
    });

    it('RelativeTarget naming an existing non-ASCII file: X-WOPI-ValidRelativeTarget is UTF-7 of a free name', async () => {
      const sourceId = await host.addFile('rt-src-unicode.docx', 'x');
      const name = 'Café 日本.docx';
      const existingId = await host.addFile(name, 'existing');
      const c = await host.client(sourceId);
      const existing = await host.client(existingId);
      const existingBefore = await snapshot(host, existing);
      const filesBefore = await fileIds(host);

      const res = await c.putRelative('y', { 'X-WOPI-RelativeTarget': utf7(name) });
      assert.equal(res.status, 409, res.text);
      const valid = res.headers.get('x-wopi-validrelativetarget');
      assert.ok(valid, 'X-WOPI-ValidRelativeTarget is missing');
      assert.match(valid, /^[\x20-\x7e]+$/, 'a header value must be plain ASCII (UTF-7)');
      const validName = decodeUtf7(valid);
      assert.ok(validName.startsWith('Café 日本'), `unexpected name offered: ${validName}`);
      assert.ok(validName.endsWith('.docx'), `suggested name lost the extension: ${validName}`);
      assert.notEqual(validName, name);
      assert.equal(await catalog().findByName(validName), null, `${validName} is not free`);
      assert.deepEqual(await fileIds(host), filesBefore);
      await assertUnchanged(host, existing, existingBefore);
    });

    it('RelativeTarget naming an existing file, OverwriteRelativeTarget: true: a new version of that file', async () => {
      const sourceId = await host.addFile('rt-src-3.docx', 'x');
      // the token's user (alice) owns the file she overwrites
      const existingId = await host.addFile('Replace Me.docx', 'old content', 'alice');
      const c = await host.client(sourceId);
      const existing = await host.client(existingId);
      const existingBefore = await snapshot(host, existing);
      const filesBefore = await fileIds(host);

      const { json, newId } = await createRelative(c, 'new content', {
        'X-WOPI-RelativeTarget': utf7('Replace Me.docx'),
        'X-WOPI-OverwriteRelativeTarget': 'true',
      });
      assert.equal(json.Name, 'Replace Me.docx');
      assert.equal(newId, existingId);
      assert.deepEqual(await fileIds(host), filesBefore);
      assert.equal((await existing.content()).toString(), 'new content');
      const info = (await existing.checkFileInfo()).json;
      assert.notEqual(info.Version, existingBefore.version);
      assert.equal((await catalog().listVersions(existingId)).length, existingBefore.versionCount + 1);
      assert.equal((await catalog().listVersions(existingId))[0]?.source, 'put-relative');
    });

    it('RelativeTarget naming a locked file with OverwriteRelativeTarget: true: 409 with its lock, unchanged', async () => {
      const sourceId = await host.addFile('rt-src-4.docx', 'x');
      const targetId = await host.addFile('Locked Target.docx', 'locked content', 'alice');
      const c = await host.client(sourceId);
      const target = await host.client(targetId);
      assert.equal((await target.lock('TARGET-LOCK')).status, 200);
      const targetBefore = await snapshot(host, target);
      const filesBefore = await fileIds(host);

      const res = await c.putRelative('overwrite attempt', {
        'X-WOPI-RelativeTarget': utf7('Locked Target.docx'),
        'X-WOPI-OverwriteRelativeTarget': 'true',
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-lock'), 'TARGET-LOCK');
      assert.deepEqual(await fileIds(host), filesBefore);
      await assertUnchanged(host, target, targetBefore);
    });

    it('OverwriteRelativeTarget on a file the caller may not edit: 409 as if it were not asked, the file unchanged', async () => {
      const sourceId = await host.addFile('rt-src-6.docx', 'x');
      // owned by someone else and not shared with alice, the token's user
      const targetId = await host.addFile('Not Yours.docx', 'their content', 'someone-else');
      const c = await host.client(sourceId);
      const target = await host.client(targetId, await host.token(targetId, { userId: 'someone-else' }));
      const targetBefore = await snapshot(host, target);
      const filesBefore = await fileIds(host);
      const res = await c.putRelative('overwrite attempt', {
        'X-WOPI-RelativeTarget': utf7('Not Yours.docx'),
        'X-WOPI-OverwriteRelativeTarget': 'true',
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.headers.get('x-wopi-validrelativetarget'), utf7('Not Yours (1).docx'), 'a name it may use');
      assert.deepEqual(await fileIds(host), filesBefore);
      await assertUnchanged(host, target, targetBefore);
    });

    it('RelativeTarget with an illegal name: 400, nothing created', async () => {
      const id = await host.addFile('rt-src-5.docx', 'x');
      const c = await host.client(id);
      const filesBefore = await fileIds(host);
      for (const bad of ['bad:name.docx', 'a/b.docx', 'what?.docx', 'pipe|name.docx', 'con.docx']) {
        const res = await c.putRelative('y', { 'X-WOPI-RelativeTarget': utf7(bad) });
        assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.status} ${res.text}`);
      }
      assert.deepEqual(await fileIds(host), filesBefore);
    });

    it('both SuggestedTarget and RelativeTarget: 501, nothing created', async () => {
      const id = await host.addFile('both.docx', 'x');
      const c = await host.client(id);
      const filesBefore = await fileIds(host);
      const res = await c.putRelative('y', {
        'X-WOPI-SuggestedTarget': utf7('both-a.docx'),
        'X-WOPI-RelativeTarget': utf7('both-b.docx'),
      });
      assert.equal(res.status, 501, res.text);
      assert.deepEqual(await fileIds(host), filesBefore);
    });

    it('neither SuggestedTarget nor RelativeTarget: 400, nothing created', async () => {
      const id = await host.addFile('neither.docx', 'x');
      const c = await host.client(id);
      const filesBefore = await fileIds(host);
      const res = await c.putRelative('y', {});
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(await fileIds(host), filesBefore);
    });

    it('X-WOPI-Size different from the body length: 400, nothing created', async () => {
      const id = await host.addFile('size-mismatch.docx', 'x');
      const c = await host.client(id);
      const filesBefore = await fileIds(host);
      for (const size of ['3', '100']) {
        const res = await c.putRelative('twelve bytes', {
          'X-WOPI-SuggestedTarget': utf7('size-mismatch copy.docx'),
          'X-WOPI-Size': size,
        });
        assert.equal(res.status, 400, `X-WOPI-Size ${size}: ${res.status} ${res.text}`);
      }
      assert.deepEqual(await fileIds(host), filesBefore);
      assert.equal(await catalog().findByName('size-mismatch copy.docx'), null);
    });

    it('X-WOPI-Size equal to the body length (Collabora Save As): accepted', async () => {
      const id = await host.addFile('size-match.docx', 'x');
      const c = await host.client(id);
      const { json } = await createRelative(c, 'twelve bytes', {
        'X-WOPI-SuggestedTarget': utf7('size-match copy.docx'),
        'X-WOPI-Size': '12',
      });
      assert.equal(json.Name, 'size-match copy.docx');
      assert.equal((await clientForUrl(json.Url).checkFileInfo()).json.Size, 12);
    });

    it('X-WOPI-FileConversion: true is recorded on the new file version', async () => {
      const id = await host.addFile('legacy.doc', 'old binary');
      const c = await host.client(id);
      const { newId } = await createRelative(c, 'converted', {
        'X-WOPI-SuggestedTarget': utf7('.docx'),
        'X-WOPI-FileConversion': 'true',
      });
      const versions = await catalog().listVersions(newId);
      assert.equal(versions.length, 1);
      assert.equal(versions[0]?.fileConversion, true);
      assert.equal(versions[0]?.source, 'put-relative');
    });

    it('without X-WOPI-FileConversion the new version is not marked as a conversion', async () => {
      const id = await host.addFile('not-converted.docx', 'x');
      const c = await host.client(id);
      const { newId } = await createRelative(c, 'copy', { 'X-WOPI-SuggestedTarget': utf7('not-converted copy.docx') });
      const versions = await catalog().listVersions(newId);
      assert.equal(versions.length, 1);
      assert.notEqual(versions[0]?.fileConversion, true);
    });

    it('response: Name, Url, HostViewUrl, HostEditUrl; Url works for the new file as the same user', async () => {
      const id = await host.addFile('response-source.docx', 'source');
      const caller = await host.client(id, await host.token(id, { userId: 'u-42', userName: 'Zoë Caller' }));
      const callerInfo = (await caller.checkFileInfo()).json;

      const { json, newId } = await createRelative(caller, 'new body', {
        'X-WOPI-SuggestedTarget': utf7('response copy.docx'),
      });
      assert.equal(json.Name, 'response copy.docx');
      for (const key of ['Name', 'Url', 'HostViewUrl', 'HostEditUrl']) {
        assert.equal(typeof json[key], 'string', `${key} missing`);
        assert.ok(json[key].length > 0, `${key} empty`);
      }

      const url = new URL(json.Url);
      assert.equal(url.origin, new URL(host.url).origin);
      assert.equal(`${url.origin}${url.pathname}`, host.quire.wopiSrc(newId));
      assert.notEqual(newId, id);

      const created = clientForUrl(json.Url);
      const info = await created.checkFileInfo();
      assert.equal(info.status, 200, info.text);
      assert.equal(info.json.UserId, 'u-42');
      assert.equal(info.json.UserId, callerInfo.UserId);
      assert.equal(info.json.UserFriendlyName, 'Zoë Caller');
      assert.equal(info.json.UserFriendlyName, callerInfo.UserFriendlyName);
      assert.equal(info.json.BaseFileName, 'response copy.docx');
      assert.equal(info.json.HostViewUrl, json.HostViewUrl);
      assert.equal(info.json.HostEditUrl, json.HostEditUrl);
      assert.notEqual(json.HostViewUrl, callerInfo.HostViewUrl);
      assert.notEqual(json.HostEditUrl, callerInfo.HostEditUrl);

      const get = await created.getFile();
      assert.equal(get.status, 200, get.text);
      assert.equal(get.text, 'new body');

      // The same request through fetch on the exact Url (no re-encoding of the token) also works.
      const direct = await fetch(json.Url);
      assert.equal(direct.status, 200);
      assert.equal(((await direct.json()) as { BaseFileName: string }).BaseFileName, 'response copy.docx');
    });

    it("the new file's token is refused (401) on the source file", async () => {
      const id = await host.addFile('token-scope.docx', 'source');
      const c = await host.client(id);
      const { json } = await createRelative(c, 'copy', { 'X-WOPI-SuggestedTarget': utf7('token-scope copy.docx') });
      const token = new URL(json.Url).searchParams.get('access_token');
      assert.ok(token);
      const onSource = new WopiClient(host.url, id, token);
      const info = await onSource.checkFileInfo();
      assert.equal(info.status, 401, info.text);
      const get = await onSource.getFile();
      assert.equal(get.status, 401, get.text);
    });

    it('a token without write-relative permission: 501, nothing created, and CheckFileInfo says UserCanNotWriteRelative', async () => {
      const id = await host.addFile('no-write-relative.docx', 'x');
      const c = await host.client(
        id,
        await host.token(id, { permissions: { ...ALL_PERMISSIONS, writeRelative: false } }),
      );
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200, info.text);
      assert.equal(info.json.UserCanNotWriteRelative, true);
      const filesBefore = await fileIds(host);

      const res = await c.putRelative('y', { 'X-WOPI-SuggestedTarget': utf7('no-write-relative copy.docx') });
      assert.equal(res.status, 501, res.text);
      assert.deepEqual(await fileIds(host), filesBefore);

      // and a token with it says the opposite
      const allowed = await host.client(id);
      assert.equal((await allowed.checkFileInfo()).json.UserCanNotWriteRelative, false);
    });
  });

  describe(`PutRelativeFile size limit [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, maxUploadBytes: 1000 });
    });
    after(() => closeHost(host));

    it('a body larger than the maximum: 413, nothing created', async () => {
      const id = await host.addFile('big-relative.docx', 'x');
      const c = await host.client(id);
      const filesBefore = await fileIds(host);
      const res = await c.putRelative(Buffer.alloc(1001, 7), { 'X-WOPI-SuggestedTarget': utf7('too big.docx') });
      assert.equal(res.status, 413, res.text);
      assert.deepEqual(await fileIds(host), filesBefore);
    });
  });
}
