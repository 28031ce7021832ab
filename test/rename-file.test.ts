import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost, utf7, type WopiClient } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';

for (const kind of storageKinds) {
  describe(`RenameFile [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    const baseFileName = async (c: WopiClient): Promise<string> => {
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200, info.text);
      return info.json.BaseFileName;
    };

    it('answers {"Name": new name without extension} and keeps the extension', async () => {
      const id = await host.addFile('Quarterly.docx', 'q');
      const c = await host.client(id);
      const res = await c.rename('Annual');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Annual' });
      assert.equal(await baseFileName(c), 'Annual.docx');
    });

    it('keeps the file id: the same id and token reach the renamed file with its content', async () => {
      const id = await host.addFile('Keep-Id.docx', 'same bytes');
      const c = await host.client(id);
      assert.equal((await c.rename('Kept Id')).status, 200);
      assert.equal(await baseFileName(c), 'Kept Id.docx');
      assert.equal((await c.content()).toString(), 'same bytes');
      const listed = await host.quire.host.storage.catalog.findByName('Kept Id.docx');
      assert.equal(listed?.id, id);
      assert.equal(await host.quire.host.storage.catalog.findByName('Keep-Id.docx'), null);
    });

    it('takes a name with dots in it as the base and still keeps the extension', async () => {
      const c = await host.client(await host.addFile('Dotted.xlsx', 'd'));
      const res = await c.rename('v1.2 final');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'v1.2 final' });
      assert.equal(await baseFileName(c), 'v1.2 final.xlsx');
    });

    it('decodes non-ASCII names sent in UTF-7 ("Straße 日本")', async () => {
      const c = await host.client(await host.addFile('Ascii.docx', 'a'));
      const header = utf7('Straße 日本');
      assert.match(header, /^[\x20-\x7e]+$/, 'the header itself is ASCII');
      const res = await c.rename(header);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Straße 日本' });
      assert.equal(await baseFileName(c), 'Straße 日本.docx');
    });

    const illegal: Array<[string, string]> = [
      ['slash', 'a/b'],
      ['backslash', 'a\\b'],
      ['colon', 'a:b'],
      ['asterisk', 'a*b'],
      ['question mark', 'a?b'],
      ['double quote', 'a"b'],
      ['less-than', 'a<b'],
      ['greater-than', 'a>b'],
      ['pipe', 'a|b'],
      ['NUL', 'a\u0000b'],
      ['control character U+0001', 'a\u0001b'],
      ['control character U+001F', 'a\u001fb'],
      ['DEL', 'a\u007fb'],
      ['C1 control character U+0085', 'a\u0085b'],
      ['".."', '..'],
      ['empty name', ''],
    ];
    for (const [what, name] of illegal) {
      it(`refuses an illegal name (${what}) with 400 and X-WOPI-InvalidFileNameError, name unchanged`, async () => {
        const c = await host.client(await host.addFile(`Illegal ${what.replace(/[^A-Za-z0-9 ]/g, '')}.docx`, 'i'));
        const before = await baseFileName(c);
        const res = await c.rename(utf7(name));
        assert.equal(res.status, 400, res.text);
        const reason = res.headers.get('x-wopi-invalidfilenameerror');
        assert.ok(reason !== null && reason.length > 0, 'X-WOPI-InvalidFileNameError must be present and say why');
        assert.equal(await baseFileName(c), before);
      });
    }

    it('answers 400 when X-WOPI-RequestedName is missing; name unchanged', async () => {
      const c = await host.client(await host.addFile('No Header.docx', 'n'));
      const res = await c.override('RENAME_FILE');
      assert.equal(res.status, 400, res.text);
      assert.equal(await baseFileName(c), 'No Header.docx');
    });

    it('answers 409 with X-WOPI-Lock to a locked file renamed with a wrong lock; name unchanged', async () => {
      const c = await host.client(await host.addFile('Locked Wrong.docx', 'l'));
      assert.equal((await c.lock('HELD')).status, 200);
      const res = await c.rename('Renamed Wrong', { 'X-WOPI-Lock': 'OTHER' });
      assert.equal(res.status, 409, res.text);
      assert.equal(lockOf(res), 'HELD');
      assert.equal(await baseFileName(c), 'Locked Wrong.docx');
    });

    it('answers 409 with X-WOPI-Lock to a locked file renamed without a lock; name unchanged', async () => {
      const c = await host.client(await host.addFile('Locked Missing.docx', 'l'));
      assert.equal((await c.lock('HELD')).status, 200);
      const res = await c.rename('Renamed Missing');
      assert.equal(res.status, 409, res.text);
      assert.equal(lockOf(res), 'HELD');
      assert.equal(await baseFileName(c), 'Locked Missing.docx');
    });

    it('renames a locked file when the request carries its lock', async () => {
      const c = await host.client(await host.addFile('Locked Right.docx', 'l'));
      assert.equal((await c.lock('HELD')).status, 200);
      const res = await c.rename('Renamed Right', { 'X-WOPI-Lock': 'HELD' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Renamed Right' });
      assert.equal(await baseFileName(c), 'Renamed Right.docx');
      assert.equal(lockOf(await c.getLock()), 'HELD', 'renaming does not release the lock');
    });

    it('answers 200 with a " (1)" variant when the name is taken, never two files with one name', async () => {
      const first = await host.client(await host.addFile('Taken.docx', '1'));
      const second = await host.client(await host.addFile('Other One.docx', '2'));
      const third = await host.client(await host.addFile('Other Two.docx', '3'));
      const res = await second.rename('Taken');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Taken (1)' });
      assert.equal(await baseFileName(second), 'Taken (1).docx');
      const res3 = await third.rename('Taken');
      assert.equal(res3.status, 200, res3.text);
      assert.deepEqual(res3.json, { Name: 'Taken (2)' });
      assert.equal(await baseFileName(third), 'Taken (2).docx');
      assert.equal(await baseFileName(first), 'Taken.docx');
      assert.equal((await first.content()).toString(), '1');
      assert.equal((await second.content()).toString(), '2');
      const names = (await host.quire.host.storage.catalog.listFiles()).map((f) => f.name.toLowerCase());
      assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(', ')}`);
    });

    it('gives concurrent renames of different files to one name distinct names', async () => {
      const clients = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => host.client(await host.addFile(`Race Source ${i}.docx`, `${i}`))),
      );
      const results = await Promise.all(clients.map((c) => c.rename('Race Target')));
      for (const r of results) assert.equal(r.status, 200, r.text);
      const returned = results.map((r) => r.json.Name as string).sort();
      const expected = ['Race Target', ...Array.from({ length: 7 }, (_, i) => `Race Target (${i + 1})`)].sort();
      assert.deepEqual(returned, expected);
      const stored = await Promise.all(clients.map(async (c) => (await c.checkFileInfo()).json.BaseFileName));
      assert.deepEqual(stored.sort(), expected.map((n) => `${n}.docx`).sort());
    });

    it('accepts a name whose full length with extension is 255 characters and refuses 256', async () => {
      const c = await host.client(await host.addFile('Long Name.docx', 'l'));
      const tooLong = await c.rename('n'.repeat(251));
      assert.equal(tooLong.status, 400, tooLong.text);
      assert.ok(tooLong.headers.get('x-wopi-invalidfilenameerror'));
      assert.equal(await baseFileName(c), 'Long Name.docx');
      const longest = await c.rename('n'.repeat(250));
      assert.equal(longest.status, 200, longest.text);
      assert.deepEqual(longest.json, { Name: 'n'.repeat(250) });
      assert.equal(await baseFileName(c), `${'n'.repeat(250)}.docx`);
    });

    it('treats a name that differs only in case as taken', async () => {
      await host.addFile('Casing.docx', '1');
      const c = await host.client(await host.addFile('Other Casing.docx', '2'));
      const res = await c.rename('CASING');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'CASING (1)' });
    });

    it('renaming a file to its own name keeps that name (no " (1)")', async () => {
      const c = await host.client(await host.addFile('Self.docx', 's'));
      const res = await c.rename('Self');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Self' });
      assert.equal(await baseFileName(c), 'Self.docx');
    });

    it('ignores the document Collabora sends as the request body: content and Version unchanged', async () => {
      const original = randomBytes(64 * 1024);
      const c = await host.client(await host.addFile('Collabora Body.odt', original));
      const before = (await c.checkFileInfo()).json;
      const res = await c.override(
        'RENAME_FILE',
        { 'X-WOPI-RequestedName': utf7('Collabora Renamed'), 'Content-Type': 'application/octet-stream' },
        randomBytes(512 * 1024),
      );
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { Name: 'Collabora Renamed' });
      const afterInfo = (await c.checkFileInfo()).json;
      assert.equal(afterInfo.BaseFileName, 'Collabora Renamed.odt');
      assert.equal(afterInfo.Version, before.Version);
      assert.equal(afterInfo.Size, original.length);
      assert.ok((await c.content()).equals(original), 'content must be the original bytes');
    });

    it('answers 401 to a token without rename permission; name unchanged', async () => {
      const id = await host.addFile('No Rename.docx', 'n');
      const readOnly = await host.client(id, await host.token(id, { permissions: READ_ONLY }));
      const res = await readOnly.rename('Should Not');
      assert.equal(res.status, 401, res.text);
      const noRename = await host.client(
        id,
        await host.token(id, { permissions: { write: true, rename: false, delete: true, writeRelative: true } }),
      );
      const res2 = await noRename.rename('Should Not Either');
      assert.equal(res2.status, 401, res2.text);
      assert.equal(await baseFileName(await host.client(id)), 'No Rename.docx');
    });
  });
}
