import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileNotFoundError, type Storage } from '../storage/types.ts';
import type { StorageBackend } from './backend.ts';
import { freshStorePerTest, MINUTE, newFileIn, T0, versionOf } from './fixture.ts';

const newFile = (storage: Storage) => newFileIn(storage, { ownerId: 'ann', content: 'v1' });

/** Rescued saves: kept beside a file, never its head; listed newest first; their event in the same transaction. */
export function rescuedContract(backend: StorageBackend): void {
  describe(`Catalog rescued saves [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('keeps a refused save without touching the head or the lock, and lists it with everything it carried', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      await storage.locks.update(file.id, T0, () => ({ value: 'L', expiresAt: T0 + 30 * MINUTE }));
      const { blob } = await versionOf(storage, 'refused edit');
      const kept = await storage.catalog.rescue(
        file.id,
        {
          blob,
          authorId: 'bob',
          editors: 'bob,carol',
          flags: { autosave: true },
          source: 'put',
          reason: 'lock mismatch',
          lock: 'X',
        },
        T0 + 1,
        (r) => ({ type: 'save.rescued', fileId: r.fileId, details: { rescued: r.id } }),
      );
      assert.deepEqual(kept, {
        id: kept.id,
        fileId: file.id,
        size: blob.size,
        sha256: blob.sha256,
        blobKey: blob.key,
        createdAt: T0 + 1,
        authorId: 'bob',
        editors: 'bob,carol',
        autosave: true,
        source: 'put',
        reason: 'lock mismatch',
        lock: 'X',
      });
      const state = await storage.catalog.getState(file.id, T0 + 2);
      assert.equal(state?.file.version, 1, 'the head did not move');
      assert.equal(state?.lock?.value, 'L', 'the lock stayed');
      assert.deepEqual(await storage.catalog.listRescued(file.id), [kept]);
      assert.deepEqual(await storage.catalog.getRescued(file.id, kept.id), kept);
      assert.equal(await storage.catalog.getRescued('other', kept.id), null);
      const [event] = await storage.events.list({ fileId: file.id, limit: 1 });
      assert.deepEqual(event?.details, { rescued: kept.id });
    });

    it('lists newest first, prunes by age, and refuses a file that does not exist', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      const { blob } = await versionOf(storage, 'x');
      const shape = { blob, authorId: 'bob', source: 'put' as const, reason: 'r' };
      const first = await storage.catalog.rescue(file.id, shape, T0 + 1);
      const second = await storage.catalog.rescue(file.id, shape, T0 + 2);
      assert.deepEqual(
        (await storage.catalog.listRescued(file.id)).map((r) => r.id),
        [second.id, first.id],
      );
      assert.equal(await storage.catalog.pruneRescued(T0 + 2), 1);
      assert.deepEqual(
        (await storage.catalog.listRescued(file.id)).map((r) => r.id),
        [second.id],
      );
      await assert.rejects(storage.catalog.rescue('no-such-file', shape, T0), FileNotFoundError);
    });
  });
}
