import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiAs, signIn, startHost, storageKinds, type TestHost } from './helpers/host.ts';

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;

for (const kind of storageKinds) {
  describe(`retention of events and rescued saves [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, eventRetentionMs: 30 * DAY, rescuedRetentionMs: 7 * DAY });
    });
    after(() => host.close());

    it('forgets rescued saves older than their retention, then events older than theirs; keeps the rest', async () => {
      const id = await host.addFile('Old.docx', 'v1', 'alice');
      const c = await host.client(id);
      assert.equal((await c.lock('HELD')).status, 200);
      assert.equal((await c.putFile('refused long ago', { 'X-WOPI-Lock': 'OTHER' })).status, 409);
      const catalog = host.quire.host.storage.catalog;
      assert.equal((await catalog.listRescued(id)).length, 1);

      host.clock.advance(8 * DAY);
      // a fresh token (the first one expired); the lock expired too, so this save meets an unlocked file
      const later = await host.client(id);
      assert.equal((await later.putFile('refused recently', { 'X-WOPI-Lock': 'OTHER' })).status, 409);
      const pruned = await host.quire.applyRetention();
      assert.equal(pruned.rescued, 1);
      assert.deepEqual(
        (await catalog.listRescued(id)).map((r) => r.reason),
        ['file is not locked and is not empty'],
        'the recent one stays, the old one is gone',
      );

      const eventsBefore = await host.quire.host.storage.events.list({ fileId: id, limit: 100 });
      host.clock.advance(25 * DAY); // the first events are now 33 days old, the recent ones 25
      const second = await host.quire.applyRetention();
      const eventsAfter = await host.quire.host.storage.events.list({ fileId: id, limit: 100 });
      assert.ok(second.events > 0);
      assert.equal(eventsAfter.length, eventsBefore.length - second.events);
      const cut = host.clock.now() - 30 * DAY;
      assert.ok(
        eventsAfter.every((e) => e.at >= cut),
        'nothing older than the retention is left',
      );
      assert.ok(
        eventsAfter.some((e) => e.type === 'save.rescued'),
        'the recent rescue is still recorded',
      );
      assert.equal((await (await host.client(id)).content()).toString(), 'v1', 'retention never touches the file');
    });
  });
}

/** How the editors flag saves (ONLYOFFICE and older Collabora spell them X-LOOL-WOPI-…). */
const AUTOSAVE = { 'X-LOOL-WOPI-IsAutosave': 'true', 'X-LOOL-WOPI-IsModifiedByUser': 'true' };
const MANUAL = { 'X-LOOL-WOPI-IsAutosave': 'false', 'X-LOOL-WOPI-IsModifiedByUser': 'true' };
const ON_CLOSE = { 'X-LOOL-WOPI-IsAutosave': 'false', 'X-LOOL-WOPI-IsExitSave': 'true' };

interface VersionView {
  version: number;
  current: boolean;
  autosave?: boolean;
  exitSave?: boolean;
}

for (const kind of storageKinds) {
  describe(`thinning old autosaves [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, autosaveRetentionMs: 30 * DAY });
    });
    after(() => host.close());

    it("after 30 days keeps each editing session's last autosave and every other save; gaps in the history are fine", async () => {
      const id = await host.addFile('Thin.docx', 'uploaded', 'alice'); // 1
      const editor = await host.client(id);
      const save = async (body: string, flags: Record<string, string>, then: number) => {
        assert.equal((await editor.lock('L')).status, 200, 'locks (again, after a pause)');
        const res = await editor.putFile(body, { 'X-WOPI-Lock': 'L', ...flags });
        assert.equal(res.status, 200, res.text);
        host.clock.advance(then);
      };
      await save('a1', AUTOSAVE, 5 * MINUTE); // 2: dropped
      await save('a2', AUTOSAVE, 5 * MINUTE); // 3: dropped
      await save('a3', AUTOSAVE, MINUTE); // 4: the last before a manual save
      await save('manual', MANUAL, 5 * MINUTE); // 5
      await save('a4', AUTOSAVE, 40 * MINUTE); // 6: the last before a long pause
      await save('a5', AUTOSAVE, 5 * MINUTE); // 7: the last before the save on close
      await save('closed', ON_CLOSE, 0); // 8: the head

      assert.deepEqual((await host.quire.applyRetention()).autosaves, { versions: 0, files: 0 }, 'nothing old yet');
      host.clock.advance(31 * DAY);
      const result = await host.quire.applyRetention();
      assert.deepEqual(result.autosaves, { versions: 2, files: 1 });
      assert.deepEqual((await host.quire.applyRetention()).autosaves, { versions: 0, files: 0 }, 'done once');

      // the JSON API (and the history page drawn from it) lists what is left, numbers unchanged
      const { cookie } = await signIn(host, 'ann', { isAdmin: true });
      const api = apiAs(host, cookie);
      const versions = (await api(`/api/files/${id}/versions`)).json as VersionView[];
      assert.deepEqual(
        versions.map((v) => [v.version, v.current, v.autosave, v.exitSave]),
        [
          [8, true, false, true],
          [7, false, true, undefined],
          [6, false, true, undefined],
          [5, false, false, undefined],
          [4, false, true, undefined],
          [1, false, undefined, undefined],
        ],
      );
      assert.equal((await api(`/files/${id}`, { headers: { Accept: 'text/html' } })).status, 200, 'the history page');
      assert.equal((await api(`/api/files/${id}/versions/4/content`)).text, 'a3');
      for (const dropped of [2, 3]) {
        assert.equal((await api(`/api/files/${id}/versions/${dropped}/content`)).status, 404);
        assert.equal((await api(`/api/files/${id}/versions/${dropped}/restore`, { method: 'POST' })).status, 404);
      }
      const events = (await api(`/api/files/${id}/events`)).json as Array<{ type: string; details?: object }>;
      assert.deepEqual(events.find((e) => e.type === 'versions.thinned')?.details, { versions: [2, 3], count: 2 });

      // restoring a kept version still works, and the next number is 9: a dropped number is never used again
      const restored = await api(`/api/files/${id}/versions/4/restore`, { method: 'POST' });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.json.version, 9);
      assert.equal((await (await host.client(id)).content()).toString(), 'a3');
    });
  });
}

describe('retention switched off', () => {
  it('keeps everything with 0', async () => {
    const host = await startHost({ eventRetentionMs: 0, rescuedRetentionMs: 0, autosaveRetentionMs: 0 });
    try {
      const id = await host.addFile('Keep.docx', 'x', 'alice');
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      for (const body of ['a1', 'a2', 'a3']) {
        assert.equal((await c.putFile(body, { 'X-WOPI-Lock': 'L', ...AUTOSAVE })).status, 200);
      }
      host.clock.advance(10_000 * DAY);
      assert.deepEqual(await host.quire.applyRetention(), {
        events: 0,
        rescued: 0,
        autosaves: { versions: 0, files: 0 },
      });
      assert.ok((await host.quire.host.storage.events.list({ limit: 10 })).length > 0);
      assert.equal((await host.quire.host.storage.catalog.listVersions(id)).length, 4);
    } finally {
      await host.close();
    }
  });
});
