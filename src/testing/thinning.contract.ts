import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Describe, SaveFlags, Storage, ThinnedVersions, VersionSource } from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { freshStorePerTest, MINUTE, newFileIn, T0, versionOf, writeBlob } from './fixture.ts';

const DAY = 24 * 60 * MINUTE;
const pass = () => {};

const thinnedEvent: Describe<ThinnedVersions> = ({ fileId, versions }) => ({
  type: 'versions.thinned',
  fileId,
  details: { versions, count: versions.length },
});

interface Save {
  /** Minutes after T0. */
  at: number;
  author?: string;
  flags?: SaveFlags;
  source?: VersionSource;
}

const autosave = (at: number, author = 'ann'): Save => ({ at, author, flags: { autosave: true } });

/** Commits `saves` in order onto `fileId` (each with its own bytes); they become versions 2, 3, … */
async function commitAll(storage: Storage, fileId: string, saves: Save[]): Promise<void> {
  for (const s of saves) {
    const version = await versionOf(storage, `${fileId} at ${s.at}`, {
      authorId: s.author ?? 'ann',
      source: s.source ?? 'put',
      ...(s.flags && { flags: s.flags }),
    });
    await storage.catalog.commitVersion(fileId, version, T0 + s.at * MINUTE, pass);
  }
}

/**
 * A history with every case of the rule (versions 2…15 after the upload, 1). Sessions of ann's autosaves end at
 * a manual save (4 before 5), a pause of more than 30 minutes (7 before 8), another author (8 before 9), an exit
 * save (10 before 11, an autosave that says it is the save on close), a save without flags (12 before 13); 15 is
 * the head. Dropped once all are old: 2, 3, 6, 9, 14.
 */
const HISTORY: Save[] = [
  autosave(1), // 2
  autosave(6), // 3
  autosave(11), // 4: last of its session
  { at: 12, flags: { autosave: false, modifiedByUser: true } }, // 5: a manual save
  autosave(20), // 6
  autosave(25), // 7: last (the next comes 31 minutes later)
  autosave(56), // 8: last (bob's comes next)
  autosave(57, 'bob'), // 9
  autosave(87, 'bob'), // 10: exactly 30 minutes later is still the same session, and this is its last
  { at: 88, author: 'bob', flags: { autosave: true, exitSave: true } }, // 11: the save on close
  autosave(100), // 12: last (a save without flags comes next)
  { at: 101 }, // 13
  autosave(110), // 14
  autosave(111), // 15: the head
];

const numbers = async (storage: Storage, fileId: string) =>
  (await storage.catalog.listVersions(fileId)).map((v) => v.version).sort((a, b) => a - b);

/** Thinning old autosaves, and the blob references blob GC keeps: part of the Catalog contract. */
export function thinningContract(backend: StorageBackend): void {
  describe(`Catalog autosave thinning and blob references [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('drops old autosaves that are not the last of their session; keeps everything else, numbers unchanged', async () => {
      const { storage } = fx();
      const file = await newFileIn(storage, { name: 'thin.docx' });
      await commitAll(storage, file.id, HISTORY);
      const head = await storage.catalog.getFile(file.id);
      const kept = await storage.catalog.getVersion(file.id, 4);

      // only versions created before the cutoff go: here, those before version 7 (25 minutes)
      const now = T0 + 2 * DAY;
      const first = await storage.catalog.thinAutosaves(T0 + 25 * MINUTE, now, thinnedEvent);
      assert.deepEqual(first, [{ fileId: file.id, versions: [2, 3, 6] }]);
      // then everything is old
      const second = await storage.catalog.thinAutosaves(T0 + DAY, now, thinnedEvent);
      assert.deepEqual(second, [{ fileId: file.id, versions: [9, 14] }]);
      assert.deepEqual(await storage.catalog.thinAutosaves(T0 + DAY, now, thinnedEvent), [], 'nothing more to drop');

      assert.deepEqual(await numbers(storage, file.id), [1, 4, 5, 7, 8, 10, 11, 12, 13, 15]);
      for (const dropped of [2, 3, 6, 9, 14]) assert.equal(await storage.catalog.getVersion(file.id, dropped), null);
      assert.deepEqual(await storage.catalog.getVersion(file.id, 4), kept, 'a kept version is unchanged');
      assert.deepEqual(await storage.catalog.getFile(file.id), head, 'the head is unchanged');

      const events = (await storage.events.list({ fileId: file.id, limit: 10 })).filter(
        (e) => e.type === 'versions.thinned',
      );
      assert.deepEqual(
        events.map((e) => [e.at, e.details]),
        [
          [now, { versions: [9, 14], count: 2 }],
          [now, { versions: [2, 3, 6], count: 3 }],
        ],
        'one event per file and pass, none when nothing was dropped',
      );

      // numbers never repeat: the next save is 16, not a dropped number
      await commitAll(storage, file.id, [{ at: 3 * 24 * 60 }]);
      assert.equal((await storage.catalog.getFile(file.id))?.version, 16);
    });

    it('leaves deleted files, files with nothing to drop, and recent autosaves alone', async () => {
      const { storage } = fx();
      const deleted = await newFileIn(storage, { name: 'deleted.docx' });
      await commitAll(storage, deleted.id, [autosave(1), autosave(2), autosave(3)]);
      await storage.catalog.deleteFile(deleted.id, T0 + 10 * MINUTE, pass);
      const manual = await newFileIn(storage, { name: 'manual.docx' });
      await commitAll(storage, manual.id, [{ at: 1, flags: { autosave: false } }, { at: 2 }, autosave(3)]);
      const recent = await newFileIn(storage, { name: 'recent.docx' });
      await commitAll(storage, recent.id, [autosave(1), autosave(2), autosave(3)]);

      // only `recent`'s first two could go, and they are not older than the cutoff
      assert.deepEqual(await storage.catalog.thinAutosaves(T0 + MINUTE, T0 + DAY, thinnedEvent), []);
      assert.deepEqual(await numbers(storage, deleted.id), [1, 2, 3, 4]);
      assert.deepEqual(await numbers(storage, manual.id), [1, 2, 3, 4]);
      assert.deepEqual(await numbers(storage, recent.id), [1, 2, 3, 4]);
      assert.deepEqual(await storage.catalog.thinAutosaves(T0 + 3 * MINUTE, T0 + DAY, thinnedEvent), [
        { fileId: recent.id, versions: [2, 3] },
      ]);
      assert.deepEqual(await numbers(storage, deleted.id), [1, 2, 3, 4], "a deleted file's history is kept whole");
    });

    it('two instances thinning at once drop each version once, with one event', needsPeer(backend), async () => {
      const { storage, peer } = fx();
      const other = await peer();
      const file = await newFileIn(storage, { name: 'both.docx' });
      await commitAll(storage, file.id, HISTORY);
      const results = await Promise.all([
        storage.catalog.thinAutosaves(T0 + DAY, T0 + 2 * DAY, thinnedEvent),
        other.catalog.thinAutosaves(T0 + DAY, T0 + 2 * DAY, thinnedEvent),
      ]);
      assert.deepEqual(results.flat(), [{ fileId: file.id, versions: [2, 3, 6, 9, 14] }]);
      const events = await storage.events.list({ fileId: file.id, limit: 50 });
      assert.equal(events.filter((e) => e.type === 'versions.thinned').length, 1);
    });

    it('referencedBlobKeys: every version’s (deleted files and thinned-away bytes still kept elsewhere too) and every rescued save’s', async () => {
      const { storage } = fx();
      const live = await newFileIn(storage, { name: 'live.docx', content: 'shared bytes' });
      await commitAll(storage, live.id, [autosave(1), autosave(2)]);
      const deleted = await newFileIn(storage, { name: 'gone.docx', content: 'deleted file bytes' });
      await storage.catalog.deleteFile(deleted.id, T0 + MINUTE, pass);
      const rescued = await versionOf(storage, 'rescued bytes');
      await storage.catalog.rescue(live.id, { ...rescued, source: 'put', reason: 'lock mismatch' }, T0 + 3 * MINUTE);
      const stray = await writeBlob(storage, 'written, never referenced');
      // a thinned autosave whose bytes another version also holds
      const again = await newFileIn(storage, { name: 'again.docx' });
      await commitAll(storage, again.id, [autosave(1), autosave(2)]);
      const twin = await versionOf(storage, `${again.id} at 1`, { source: 'restore' });
      await storage.catalog.commitVersion(again.id, twin, T0 + 5 * MINUTE, pass);

      const versionKeys = async (fileId: string) =>
        (await storage.catalog.listVersions(fileId)).map((v) => v.blobKey).sort();
      const dropped = (await storage.catalog.getVersion(live.id, 2))?.blobKey;
      const twinDropped = (await storage.catalog.getVersion(again.id, 2))?.blobKey;
      assert.deepEqual(
        (await storage.catalog.thinAutosaves(T0 + DAY, T0 + DAY)).map((t) => t.versions),
        [[2], [2]],
      );

      const referenced = await storage.catalog.referencedBlobKeys();
      const expected = new Set([
        ...(await versionKeys(live.id)),
        ...(await versionKeys(deleted.id)),
        ...(await versionKeys(again.id)),
        rescued.blob.key,
      ]);
      assert.deepEqual([...referenced].sort(), [...expected].sort());
      assert.equal(referenced.has(stray.key), false);
      assert.equal(referenced.has(dropped as string), false, "a thinned version's bytes are no longer referenced");
      assert.equal(referenced.has(twinDropped as string), true, 'unless another version holds the same bytes');
      assert.equal(referenced.has(deleted.blobKey), true, "a deleted file's versions are");

      await storage.catalog.pruneRescued(T0 + DAY);
      assert.equal((await storage.catalog.referencedBlobKeys()).has(rescued.blob.key), false, 'a forgotten rescue');
    });
  });
}
