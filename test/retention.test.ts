import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';

const DAY = 24 * 60 * 60 * 1000;

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

describe('retention switched off', () => {
  it('keeps everything with 0', async () => {
    const host = await startHost({ eventRetentionMs: 0, rescuedRetentionMs: 0 });
    try {
      await host.addFile('Keep.docx', 'x', 'alice');
      host.clock.advance(10_000 * DAY);
      assert.deepEqual(await host.quire.applyRetention(), { events: 0, rescued: 0 });
      assert.ok((await host.quire.host.storage.events.list({ limit: 10 })).length > 0);
    } finally {
      await host.close();
    }
  });
});
