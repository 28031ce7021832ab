import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewEvent, Storage } from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, MINUTE, newFileIn, Refused, T0, versionOf } from './fixture.ts';

const saved = (fileId: string, extra: Partial<NewEvent> = {}): NewEvent => ({
  type: 'file.saved',
  fileId,
  userId: 'ann',
  userName: 'Ann',
  ...extra,
});

const newFile = (storage: Storage, name = 'doc.docx') =>
  newFileIn(storage, {
    name,
    ownerId: 'ann',
    content: 'v1',
    event: (file) => ({ type: 'file.created', fileId: file.id, userId: 'ann', details: { name: file.name } }),
  });

/**
 * The EventLog contract: every change's event is written in the change's transaction (no change without its
 * event, no event without its change), ids only increase, and readers can page and follow by cursor.
 */
export function eventLogContract(backend: StorageBackend): void {
  describe(`EventLog contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('keeps every field of an appended event and answers newest first', async () => {
      const { storage } = fx();
      const first = await storage.events.append(
        {
          type: 'file.opened',
          fileId: 'f1',
          userId: 'ann',
          userName: 'Ann Example',
          address: '127.0.0.1',
          client: 'Browser/1.0',
          correlationId: 'corr-1',
          sessionId: 'sess-1',
          details: { action: 'edit', nested: { ok: true }, text: 'é \u0001' },
        },
        T0,
      );
      const second = await storage.events.append(saved('f1'), T0 + 1);
      assert.ok(second.id > first.id, 'ids increase');
      const listed = await storage.events.list({ limit: 10 });
      assert.deepEqual(
        listed.map((e) => e.id),
        [second.id, first.id],
      );
      assert.deepEqual(listed[1], first);
      assert.equal(listed[1]?.at, T0);
    });

    it('writes a change and its event together; a refused change writes neither', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      const version = await versionOf(storage, 'v2');
      await assert.rejects(
        storage.catalog.commitVersion(
          file.id,
          version,
          T0 + 1,
          () => {
            throw new Refused();
          },
          (f) => saved(f.id, { details: { version: f.version } }),
        ),
        Refused,
      );
      assert.deepEqual(
        (await storage.events.list({ fileId: file.id, limit: 10 })).map((e) => e.type),
        ['file.created'],
      );
      const committed = await storage.catalog.commitVersion(
        file.id,
        version,
        T0 + 2,
        () => {},
        (f) => saved(f.id, { details: { version: f.version } }),
      );
      const [latest] = await storage.events.list({ fileId: file.id, limit: 1 });
      assert.equal(latest?.type, 'file.saved');
      assert.deepEqual(latest?.details, { version: committed.version });
      assert.equal(latest?.at, T0 + 2);
    });

    it('every change kind writes the event its caller describes, with what the change produced', async () => {
      const { storage } = fx();
      const file = await newFile(storage, 'a.docx');
      await storage.catalog.renameFile(
        file.id,
        ['b.docx'],
        T0 + 1,
        () => {},
        ({ before, after }) => ({
          type: 'file.renamed',
          fileId: file.id,
          details: { from: before.name, to: after.name },
        }),
      );
      await storage.locks.update(
        file.id,
        T0 + 2,
        () => ({ value: 'L', expiresAt: T0 + 30 * MINUTE }),
        ({ before, after }) => ({ type: 'lock.taken', fileId: file.id, details: { before, after: after?.value } }),
      );
      // describing nothing writes nothing
      await storage.locks.update(
        file.id,
        T0 + 3,
        (current) => current,
        () => null,
      );
      await storage.locks.update(
        file.id,
        T0 + 4,
        () => null,
        () => ({ type: 'lock.released', fileId: file.id }),
      );
      await storage.catalog.deleteFile(
        file.id,
        T0 + 5,
        () => {},
        (f) => ({
          type: 'file.deleted',
          fileId: f.id,
          details: { name: f.name },
        }),
      );
      const events = (await storage.events.list({ fileId: file.id, limit: 10 })).reverse();
      assert.deepEqual(
        events.map((e) => [e.type, e.details]),
        [
          ['file.created', { name: 'a.docx' }],
          ['file.renamed', { from: 'a.docx', to: 'b.docx' }],
          ['lock.taken', { before: null, after: 'L' }],
          ['lock.released', undefined],
          ['file.deleted', { name: 'b.docx' }],
        ],
      );
    });

    it('filters by file and by user, pages back with beforeId and follows with afterId (oldest first)', async () => {
      const { storage } = fx();
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const e = await storage.events.append(saved(i % 2 ? 'odd' : 'even', { userId: i < 3 ? 'ann' : 'bob' }), T0 + i);
        ids.push(e.id);
      }
      assert.deepEqual(
        (await storage.events.list({ fileId: 'odd', limit: 10 })).map((e) => e.id),
        [ids[5], ids[3], ids[1]],
      );
      assert.deepEqual(
        (await storage.events.list({ userId: 'bob', limit: 10 })).map((e) => e.id),
        [ids[5], ids[4], ids[3]],
      );
      assert.deepEqual(
        (await storage.events.list({ beforeId: ids[3] as number, limit: 2 })).map((e) => e.id),
        [ids[2], ids[1]],
      );
      assert.deepEqual(
        (await storage.events.list({ afterId: ids[3] as number, limit: 10 })).map((e) => e.id),
        [ids[4], ids[5]],
      );
      assert.deepEqual(await storage.events.list({ afterId: ids[5] as number, limit: 10 }), []);
    });

    it(
      'ids stay unique and increasing when two instances append at once; a reader by cursor misses none',
      needsPeer(backend),
      async () => {
        const { storage } = fx();
        const peer = await fx().peer();
        const start = await storage.events.append(saved('x'), T0);
        const appended = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? storage : peer).events.append(saved('x'), T0 + i)),
        );
        const ids = appended.map((e) => e.id);
        assert.equal(new Set(ids).size, ids.length, 'no id twice');
        const followed = await peer.events.list({ afterId: start.id, limit: 100 });
        assert.deepEqual(
          followed.map((e) => e.id),
          [...ids].sort((a, b) => a - b),
        );
      },
    );

    it('prune removes events older than the cut and answers how many', async () => {
      const { storage } = fx();
      await storage.events.append(saved('p'), T0);
      await storage.events.append(saved('p'), T0 + 10);
      const kept = await storage.events.append(saved('p'), T0 + 20);
      assert.equal(await storage.events.prune(T0 + 20), 2);
      assert.deepEqual(
        (await storage.events.list({ limit: 10 })).map((e) => e.id),
        [kept.id],
      );
    });

    it('hostile ids and text are stored or answered safely', async () => {
      const { storage } = fx();
      for (const id of HOSTILE_IDS) assert.deepEqual(await storage.events.list({ fileId: id, limit: 5 }), []);
      const e = await storage.events.append(saved('f', { client: 'a\u0000b', userName: 'x'.repeat(5000) }), T0);
      const [back] = await storage.events.list({ limit: 1 });
      assert.equal(back?.id, e.id);
      assert.equal(back?.client, 'a\ufffdb', 'U+0000 cannot be stored by every backend: replaced');
      assert.equal(back?.userName?.length, 512, 'client-sent text is capped');
    });
  });
}
