import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiAs, signIn, startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';

/**
 * Refused saves are kept: the client gets exactly the refusal the protocol demands, and the body it sent is kept
 * beside the file as a rescued save, listed with its reason, downloadable, and restorable as the newest version.
 */

interface RescuedView {
  id: number;
  reason: string;
  size: number;
  source: string;
  lock?: string;
  author: { id: string; name: string };
  download: string;
  restore: string;
  autosave?: boolean;
}

for (const kind of storageKinds) {
  describe(`rescued saves [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      // Collabora: an unlocked save carrying X-COOL-WOPI-Timestamp is judged by the timestamp
      host = await startHost({ storageKind: kind, editor: { flavour: 'collabora' } });
      ({ cookie } = await signIn(host, 'ann', { displayName: 'Ann Example', isAdmin: true }));
    });
    after(() => host.close());

    const api = (path: string, init: RequestInit = {}) => apiAs(host, cookie)(path, init);
    const rescuedOf = async (id: string) => (await api(`/api/files/${id}/rescued`)).json as RescuedView[];

    it('a save with the wrong lock gets its 409 and is kept, with the reason, the lock it sent and its flags', async () => {
      const id = await host.addFile('Report.docx', 'v1', 'alice');
      const holder = await host.client(id);
      assert.equal((await holder.lock('HOLDER')).status, 200);
      const late = await host.client(id);
      const res = await late.putFile('the edit that lost the race', {
        'X-WOPI-Lock': 'STALE',
        'X-COOL-WOPI-IsAutosave': 'true',
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(lockOf(res), 'HOLDER', 'the refusal is exactly as before');
      assert.equal((await holder.content()).toString(), 'v1', 'the file did not change');
      const [kept] = await rescuedOf(id);
      assert.ok(kept, 'one rescued save');
      assert.equal(kept.reason, 'lock mismatch');
      assert.equal(kept.lock, 'STALE');
      assert.equal(kept.size, 'the edit that lost the race'.length);
      assert.equal(kept.autosave, true);
      assert.equal(kept.author.id, 'alice');
      assert.equal((await api(kept.download)).text, 'the edit that lost the race');
      const events = (await api(`/api/files/${id}/events`)).json as Array<{ type: string; details: object }>;
      assert.deepEqual(events.find((e) => e.type === 'save.rescued')?.details, {
        rescued: kept.id,
        reason: 'lock mismatch',
        size: kept.size,
        lock: 'STALE',
      });

      assert.equal((await holder.unlock('HOLDER')).status, 200);
      const restored = await api(kept.restore, { method: 'POST' });
      assert.equal(restored.status, 200, restored.text);
      assert.equal((restored.json as { version: number }).version, 2);
      assert.equal((await holder.content()).toString(), 'the edit that lost the race');
    });

    it('keeps saves refused for a stale Collabora timestamp (409, COOLStatusCode 1010) and for a lock that expired', async () => {
      const id = await host.addFile('Sheet.xlsx', 'v1', 'alice');
      const c = await host.client(id);
      const stale = await c.putFile('edit against an old copy', {
        'X-COOL-WOPI-Timestamp': '2001-01-01T00:00:00.000Z',
      });
      assert.equal(stale.status, 409, stale.text);
      assert.equal((stale.json as { COOLStatusCode?: number }).COOLStatusCode, 1010);

      assert.equal((await c.lock('L')).status, 200);
      host.clock.advance(31 * 60 * 1000); // the lock expires
      const expired = await c.putFile('edit after the lock ran out', { 'X-WOPI-Lock': 'L' });
      assert.equal(expired.status, 409, expired.text);

      const unlocked = await c.putFile('edit with no lock at all');
      assert.equal(unlocked.status, 409, unlocked.text);

      const kept = await rescuedOf(id);
      assert.deepEqual(
        kept.map((k) => k.reason),
        // a save whose lock expired meets an unlocked, non-empty file
        [
          'file is not locked and is not empty',
          'file is not locked and is not empty',
          'file changed since the editor last read it',
        ],
      );
      assert.equal((await c.content()).toString(), 'v1');
    });

    it('keeps nothing for an empty body, a malformed request or a body over the limit', async () => {
      const id = await host.addFile('Empty.docx', 'v1', 'alice');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      assert.equal((await c.putFile('', { 'X-WOPI-Lock': 'OTHER' })).status, 409);
      assert.equal((await c.putFile('x', { 'X-WOPI-Lock': 'L', 'X-WOPI-Size': 'nope' })).status, 400);
      assert.deepEqual(await rescuedOf(id), []);
    });

    it('PutRelativeFile refused for the source lock keeps its body beside the source', async () => {
      const id = await host.addFile('Source.docx', 'v1', 'alice');
      const c = await host.client(id);
      assert.equal((await c.lock('MINE')).status, 200);
      const res = await c.putRelative('a copy', { 'X-WOPI-SuggestedTarget': '.pdf', 'X-WOPI-Lock': 'NOT-MINE' });
      assert.equal(res.status, 409, res.text);
      const [kept] = await rescuedOf(id);
      assert.equal(kept?.source, 'put-relative');
      assert.equal(kept?.reason, 'lock mismatch');
      assert.equal(await host.quire.host.storage.catalog.findByName('Source.pdf'), null, 'no copy was made');
    });

    it('answers 404 for a rescued save that does not exist and 400 for a malformed one', async () => {
      const id = await host.addFile('None.docx', 'v1', 'alice');
      assert.equal((await api(`/api/files/${id}/rescued/999/content`)).status, 404);
      assert.equal((await api(`/api/files/${id}/rescued/abc/restore`, { method: 'POST' })).status, 400);
    });
  });
}
