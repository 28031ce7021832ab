import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FileNotFoundError,
  type FileRecord,
  type FileState,
  NameTakenError,
  type NewVersion,
  type Storage,
} from '../storage/types.ts';
import { needsPeer, needsPeerProcess, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, held, MINUTE, numberedNames, Refused, T0, versionOf } from './fixture.ts';
import { inPeerProcess, peerTasks } from './peer.ts';

const pass = () => {};
const refuse = () => {
  throw new Refused();
};

async function create(storage: Storage, names: Iterable<string> | string, now = T0, content = 'v1') {
  return storage.catalog.createFile({
    names: typeof names === 'string' ? [names] : names,
    ownerId: 'owner',
    version: await versionOf(storage, content, { authorId: 'owner', source: 'import' }),
    now,
  });
}

/** Asserts the file reads back exactly as `file` through every lookup. */
async function assertStored(storage: Storage, file: FileRecord): Promise<void> {
  assert.deepEqual(await storage.catalog.getFile(file.id), file);
  assert.deepEqual((await storage.catalog.getState(file.id, T0))?.file, file);
  assert.deepEqual(await storage.catalog.findByName(file.name), file);
}

/** Asserts version numbers are 1…n, each once, and modifiedAt (the versions' createdAt) strictly increases. */
async function assertVersionHistory(storage: Storage, fileId: string, n: number): Promise<void> {
  const versions = [...(await storage.catalog.listVersions(fileId))].sort((a, b) => a.version - b.version);
  assert.deepEqual(
    versions.map((v) => v.version),
    Array.from({ length: n }, (_, i) => i + 1),
    'versions 1…n, none repeated, none skipped',
  );
  for (let i = 1; i < versions.length; i++) {
    const [prev, cur] = [versions[i - 1], versions[i]];
    assert.ok(prev && cur && cur.createdAt > prev.createdAt, `version ${i + 1} is later than version ${i}`);
  }
  const head = await storage.catalog.getFile(fileId);
  assert.equal(head?.version, n, 'the head is the newest version');
  assert.equal(head?.modifiedAt, versions.at(-1)?.createdAt, "the head's modifiedAt is its version's time");
}

/** The Catalog contract: files, names, versions and user info, each change one transaction behind its guard. */
export function catalogContract(backend: StorageBackend): void {
  describe(`Catalog contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    describe('createFile and lookups', () => {
      it('creates version 1 with the blob, owner, author and time given; every lookup answers the same record', async () => {
        const { storage } = fx();
        const version = await versionOf(storage, 'hello', { authorId: 'alice', source: 'import' });
        const file = await storage.catalog.createFile({ names: ['Report.docx'], ownerId: 'bob', version, now: T0 });
        assert.equal(typeof file.id, 'string');
        assert.ok(file.id.length > 0);
        assert.deepEqual(file, {
          id: file.id,
          name: 'Report.docx',
          ownerId: 'bob',
          createdAt: T0,
          version: 1,
          size: version.blob.size,
          sha256: version.blob.sha256,
          blobKey: version.blob.key,
          modifiedAt: T0,
          modifiedBy: 'alice',
        });
        await assertStored(storage, file);
        assert.deepEqual(await storage.catalog.getState(file.id, T0), { file, lock: null });
        assert.deepEqual(await storage.catalog.listFiles(), [file]);
        assert.deepEqual(await storage.catalog.getVersion(file.id, 1), {
          fileId: file.id,
          version: 1,
          size: version.blob.size,
          sha256: version.blob.sha256,
          blobKey: version.blob.key,
          createdAt: T0,
          authorId: 'alice',
          source: 'import',
        });
      });

      it('keeps a version’s editors, save flags (true and false) and source; leaves absent ones absent', async () => {
        const { storage } = fx();
        const file = await create(storage, 'flags.docx');
        const flagged: NewVersion = await versionOf(storage, 'v2', {
          authorId: 'carol',
          editors: 'carol,dave',
          flags: { modifiedByUser: true, autosave: false, exitSave: true, fileConversion: false },
          source: 'put-relative',
        });
        await storage.catalog.commitVersion(file.id, flagged, T0 + 1, pass);
        const v2 = await storage.catalog.getVersion(file.id, 2);
        assert.deepEqual(v2, {
          fileId: file.id,
          version: 2,
          size: flagged.blob.size,
          sha256: flagged.blob.sha256,
          blobKey: flagged.blob.key,
          createdAt: T0 + 1,
          authorId: 'carol',
          editors: 'carol,dave',
          modifiedByUser: true,
          autosave: false,
          exitSave: true,
          fileConversion: false,
          source: 'put-relative',
        });
        const v1 = await storage.catalog.getVersion(file.id, 1);
        for (const key of ['editors', 'modifiedByUser', 'autosave', 'exitSave', 'fileConversion'] as const) {
          assert.equal(v1 && key in v1, false, `${key} is absent when it was not given`);
        }
      });

      it('claims the first free of `names` (an iterable, read lazily) and throws NameTakenError when none is', async () => {
        const { storage } = fx();
        await create(storage, 'a.docx');
        await create(storage, 'a (1).docx');
        const third = await create(storage, numberedNames('a', '.docx'));
        assert.equal(third.name, 'a (2).docx');
        await assert.rejects(create(storage, ['a.docx', 'a (1).docx', 'a (2).docx']), (err) => {
          assert.ok(err instanceof NameTakenError, String(err));
          assert.equal(err.status, 409);
          return true;
        });
        assert.equal((await storage.catalog.listFiles()).length, 3, 'nothing created by the refused call');
      });

      it('compares names without case and after Unicode normalization (NFC)', async () => {
        const { storage } = fx();
        const file = await create(storage, 'Caf\u00e9 Notes.docx');
        assert.deepEqual(await storage.catalog.findByName('CAF\u00c9 NOTES.DOCX'), file);
        assert.deepEqual(await storage.catalog.findByName('Cafe\u0301 Notes.docx'), file, 'NFD spelling');
        await assert.rejects(create(storage, 'cafe\u0301 notes.DOCX'), NameTakenError);
        const next = await create(storage, ['CAF\u00c9 NOTES.docx', 'Caf\u00e9 Notes (1).docx']);
        assert.equal(next.name, 'Caf\u00e9 Notes (1).docx');
      });

      it(
        'concurrent creates on two instances with the same candidate names all get distinct names',
        needsPeer(backend),
        async () => {
          const { storage, peer } = fx();
          const other = await peer();
          const version = await versionOf(storage, 'same', { source: 'import' });
          const created = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              (i % 2 ? other : storage).catalog.createFile({
                names: numberedNames('race', '.docx', 8),
                ownerId: 'owner',
                version,
                now: T0,
              }),
            ),
          );
          const names = created.map((f) => f.name).sort();
          assert.deepEqual(names, [...numberedNames('race', '.docx', 8)].sort(), 'each name claimed once');
          assert.equal(new Set(created.map((f) => f.id)).size, 8);
          assert.equal((await storage.catalog.listFiles()).length, 8);
          await assert.rejects(create(other, numberedNames('race', '.docx', 8)), NameTakenError);
        },
      );

      it(
        'concurrent creates from another process with the same candidate names get distinct names',
        needsPeerProcess(backend),
        async () => {
          const { storage, dir } = fx();
          const args = { base: 'race', ext: '.docx', now: T0, count: 25, pauseMs: 2 };
          const remote = inPeerProcess(backend, dir, 'create', { ...args, owner: 'remote' });
          await remote.started;
          const [here, there] = await Promise.all([
            peerTasks.create(storage, { ...args, owner: 'local' }),
            remote.done,
          ]);
          const all = [...here, ...there];
          assert.equal(new Set(all).size, 50, `50 distinct names: ${all.join(', ')}`);
          assert.equal((await storage.catalog.listFiles()).length, 50);
        },
      );

      it('unknown ids and names answer null (or an empty list), not an error', async () => {
        const { storage } = fx();
        const file = await create(storage, 'exists.docx');
        assert.equal(await storage.catalog.getFile('no-such-id'), null);
        assert.equal(await storage.catalog.getState('no-such-id', T0), null);
        assert.equal(await storage.catalog.findByName('no such name.docx'), null);
        assert.equal(await storage.catalog.getVersion('no-such-id', 1), null);
        assert.deepEqual(await storage.catalog.listVersions('no-such-id'), []);
        for (const version of [0, -1, 2, 1.5, 2 ** 40, Number.NaN]) {
          assert.equal(await storage.catalog.getVersion(file.id, version), null, `version ${version}`);
        }
      });

      it('hostile ids and names (U+0000, a lone surrogate, quotes, 10,000 characters) answer null, not an error', async () => {
        const { storage } = fx();
        await create(storage, 'exists.docx');
        for (const id of HOSTILE_IDS) {
          const what = JSON.stringify(id.slice(0, 20));
          assert.equal(await storage.catalog.getFile(id), null, what);
          assert.equal(await storage.catalog.getState(id, T0), null, what);
          assert.equal(await storage.catalog.findByName(id), null, what);
          assert.equal(await storage.catalog.getVersion(id, 1), null, what);
          assert.deepEqual(await storage.catalog.listVersions(id), [], what);
          assert.equal(await storage.catalog.getUserInfo(id, 'alice'), null, what);
        }
      });

      it('changes to a hostile or unknown id reject with FileNotFoundError without calling the guard', async () => {
        const { storage } = fx();
        const version = await versionOf(storage, 'x');
        let guardCalls = 0;
        const guard = () => {
          guardCalls++;
        };
        for (const id of ['no-such-id', ...HOSTILE_IDS]) {
          const what = JSON.stringify(id.slice(0, 20));
          await assert.rejects(storage.catalog.commitVersion(id, version, T0, guard), FileNotFoundError, what);
          await assert.rejects(storage.catalog.renameFile(id, ['n.docx'], T0, guard), FileNotFoundError, what);
          await assert.rejects(storage.catalog.deleteFile(id, T0, guard), FileNotFoundError, what);
        }
        assert.equal(guardCalls, 0);
      });
    });

    describe('commitVersion', () => {
      it('moves the head to version n+1 with the new blob and author; older versions stay readable', async () => {
        const { storage } = fx();
        const file = await create(storage, 'doc.docx');
        const v2 = await versionOf(storage, 'second', { authorId: 'editor' });
        const head = await storage.catalog.commitVersion(file.id, v2, T0 + MINUTE, pass);
        assert.deepEqual(head, {
          ...file,
          version: 2,
          size: v2.blob.size,
          sha256: v2.blob.sha256,
          blobKey: v2.blob.key,
          modifiedAt: T0 + MINUTE,
          modifiedBy: 'editor',
        });
        await assertStored(storage, head);
        assert.equal((await storage.catalog.getVersion(file.id, 1))?.blobKey, file.blobKey);
        await assertVersionHistory(storage, file.id, 2);
      });

      it('modifiedAt strictly increases even when `now` repeats or goes backwards', async () => {
        const { storage } = fx();
        const file = await create(storage, 'clock.docx', T0);
        const version = await versionOf(storage, 'same bytes');
        const times = [T0, T0, T0 - MINUTE, T0 - 2 * MINUTE, T0 + 1, T0 + MINUTE];
        let last = file.modifiedAt;
        for (const now of times) {
          const head = await storage.catalog.commitVersion(file.id, version, now, pass);
          assert.ok(head.modifiedAt > last, `modifiedAt ${head.modifiedAt} after ${last} (now = T0${now - T0})`);
          assert.equal(head.createdAt, T0, 'createdAt does not move');
          last = head.modifiedAt;
        }
        assert.equal(last, T0 + MINUTE, 'a clock ahead of the last version is taken as is');
        await assertVersionHistory(storage, file.id, times.length + 1);
      });

      it('the guard sees the state as of `now`, lock included; a guard that throws changes nothing', async () => {
        const { storage } = fx();
        const file = await create(storage, 'guarded.docx');
        await storage.locks.update(file.id, T0, () => ({ value: 'L1', expiresAt: T0 + 30 * MINUTE }));
        const version = await versionOf(storage, 'refused');
        const seen: FileState[] = [];
        const refusal = new Refused();
        await assert.rejects(
          storage.catalog.commitVersion(file.id, version, T0 + MINUTE, (state) => {
            seen.push(state);
            throw refusal;
          }),
          (err) => err === refusal,
        );
        assert.deepEqual(seen.slice(), [{ file, lock: held('L1', T0 + 30 * MINUTE, T0) }]);
        assert.deepEqual(await storage.catalog.getFile(file.id), file, 'head unmoved');
        assert.equal(await storage.catalog.getVersion(file.id, 2), null, 'no version 2');
        assert.equal((await storage.catalog.listVersions(file.id)).length, 1);
        assert.equal((await storage.locks.get(file.id, T0 + MINUTE))?.value, 'L1', 'lock kept');

        seen.length = 0;
        const head = await storage.catalog.commitVersion(file.id, version, T0 + 31 * MINUTE, (state) => {
          seen.push(state);
        });
        assert.equal(seen[0]?.lock, null, 'an expired lock is no lock to the guard');
        assert.equal(head.version, 2, 'the next version after a refusal is still 2');
      });

      it('a commit keeps the lock', async () => {
        const { storage } = fx();
        const file = await create(storage, 'locked.docx');
        await storage.locks.update(file.id, T0, () => ({ value: 'L1', expiresAt: T0 + 30 * MINUTE }));
        await storage.catalog.commitVersion(file.id, await versionOf(storage, 'v2'), T0 + 1, pass);
        assert.deepEqual(await storage.locks.get(file.id, T0 + 1), held('L1', T0 + 30 * MINUTE, T0));
      });

      it(
        'concurrent commits on two instances at the same `now`: every version number once, modifiedAt increasing',
        needsPeer(backend),
        async () => {
          const { storage, peer } = fx();
          const other = await peer();
          const file = await create(storage, 'busy.docx');
          const [a, b] = await Promise.all([
            peerTasks.commit(storage, { fileId: file.id, count: 15, now: T0, author: 'a', pauseMs: 1 }),
            peerTasks.commit(other, { fileId: file.id, count: 15, now: T0, author: 'b', pauseMs: 1 }),
          ]);
          assert.deepEqual(
            [...a, ...b].sort((x, y) => x - y),
            Array.from({ length: 30 }, (_, i) => i + 2),
            'each commit got its own number',
          );
          await assertVersionHistory(storage, file.id, 31);
        },
      );

      it(
        'concurrent commits from another process: every version number once, modifiedAt increasing',
        needsPeerProcess(backend),
        async () => {
          const { storage, dir } = fx();
          const file = await create(storage, 'busy.docx');
          const args = { fileId: file.id, count: 40, now: T0, pauseMs: 2 };
          const remote = inPeerProcess(backend, dir, 'commit', { ...args, author: 'remote' });
          await remote.started;
          const [here, there] = await Promise.all([
            peerTasks.commit(storage, { ...args, author: 'local' }),
            remote.done,
          ]);
          assert.deepEqual(
            [...here, ...there].sort((x, y) => x - y),
            Array.from({ length: 80 }, (_, i) => i + 2),
            'each commit got its own number',
          );
          await assertVersionHistory(storage, file.id, 81);
        },
      );
    });

    describe('replaceByName', () => {
      it('a free name: creates the file (version 1, replaced false) without calling the guard', async () => {
        const { storage } = fx();
        const version = await versionOf(storage, 'new', { authorId: 'alice', source: 'put-relative' });
        let guardCalls = 0;
        const result = await storage.catalog.replaceByName({
          name: 'Fresh.docx',
          ownerId: 'alice',
          version,
          now: T0,
          guard: () => {
            guardCalls++;
          },
        });
        assert.equal(result.replaced, false);
        assert.equal(guardCalls, 0);
        assert.equal(result.file.name, 'Fresh.docx');
        assert.equal(result.file.version, 1);
        assert.equal(result.file.ownerId, 'alice');
        assert.equal(result.file.blobKey, version.blob.key);
        await assertStored(storage, result.file);
      });

      it('a taken name (any case): a new version of that file after the guard passes on its state', async () => {
        const { storage } = fx();
        const file = await create(storage, 'Existing.docx');
        const version = await versionOf(storage, 'replacement', { authorId: 'bob', source: 'put-relative' });
        const seen: FileState[] = [];
        const result = await storage.catalog.replaceByName({
          name: 'EXISTING.DOCX',
          ownerId: 'bob',
          version,
          now: T0 + MINUTE,
          guard: (state) => {
            seen.push(state);
          },
        });
        assert.deepEqual(seen, [{ file, lock: null }]);
        assert.equal(result.replaced, true);
        assert.equal(result.file.id, file.id);
        assert.equal(result.file.version, 2);
        assert.equal(result.file.blobKey, version.blob.key);
        assert.equal(result.file.modifiedBy, 'bob');
        assert.equal(result.file.ownerId, 'owner', 'the owner stays');
        assert.equal((await storage.catalog.listFiles()).length, 1);
        await assertVersionHistory(storage, file.id, 2);
      });

      it('a guard that throws changes nothing', async () => {
        const { storage } = fx();
        const file = await create(storage, 'kept.docx');
        await storage.locks.update(file.id, T0, () => ({ value: 'L1', expiresAt: T0 + 30 * MINUTE }));
        const version = await versionOf(storage, 'refused');
        const seen: FileState[] = [];
        await assert.rejects(
          storage.catalog.replaceByName({
            name: 'kept.docx',
            ownerId: 'mallory',
            version,
            now: T0,
            guard: (state) => {
              seen.push(state);
              refuse();
            },
          }),
          Refused,
        );
        assert.equal(seen[0]?.lock?.value, 'L1', 'the guard sees the lock');
        assert.deepEqual(await storage.catalog.getFile(file.id), file);
        assert.equal(await storage.catalog.getVersion(file.id, 2), null);
        assert.equal((await storage.catalog.listFiles()).length, 1);
      });

      it("a deleted file's name is free: a new file, not a version of the deleted one", async () => {
        const { storage } = fx();
        const old = await create(storage, 'gone.docx');
        await storage.catalog.deleteFile(old.id, T0, pass);
        const result = await storage.catalog.replaceByName({
          name: 'gone.docx',
          ownerId: 'owner',
          version: await versionOf(storage, 'new'),
          now: T0 + 1,
          guard: refuse,
        });
        assert.equal(result.replaced, false);
        assert.notEqual(result.file.id, old.id);
        assert.equal(result.file.version, 1);
      });
    });

    describe('renameFile', () => {
      it('renames to the first free name; the old name becomes free; content and version stay', async () => {
        const { storage } = fx();
        const file = await create(storage, 'old.docx');
        await create(storage, 'new.docx');
        const renamed = await storage.catalog.renameFile(file.id, numberedNames('new', '.docx'), T0 + MINUTE, pass);
        assert.deepEqual(renamed, { ...file, name: 'new (1).docx' });
        await assertStored(storage, renamed);
        assert.equal(await storage.catalog.findByName('old.docx'), null);
        const reuse = await create(storage, 'old.docx');
        assert.notEqual(reuse.id, file.id);
      });

      it('may keep its own name, or change only its case', async () => {
        const { storage } = fx();
        const file = await create(storage, 'mine.docx');
        const same = await storage.catalog.renameFile(file.id, ['mine.docx', 'mine (1).docx'], T0, pass);
        assert.equal(same.name, 'mine.docx');
        const cased = await storage.catalog.renameFile(file.id, ['MINE.docx'], T0, pass);
        assert.equal(cased.name, 'MINE.docx');
        assert.deepEqual(await storage.catalog.findByName('mine.docx'), cased);
      });

      it('throws NameTakenError when every name is taken, and keeps the name', async () => {
        const { storage } = fx();
        const file = await create(storage, 'stay.docx');
        await create(storage, 'taken.docx');
        await create(storage, 'taken (1).docx');
        await assert.rejects(
          storage.catalog.renameFile(file.id, ['taken.docx', 'TAKEN (1).docx'], T0, pass),
          NameTakenError,
        );
        assert.deepEqual(await storage.catalog.getFile(file.id), file);
      });

      it('the guard sees the state; a guard that throws changes nothing', async () => {
        const { storage } = fx();
        const file = await create(storage, 'guarded.docx');
        await storage.locks.update(file.id, T0, () => ({ value: 'L1', expiresAt: T0 + 30 * MINUTE }));
        const seen: FileState[] = [];
        await assert.rejects(
          storage.catalog.renameFile(file.id, ['elsewhere.docx'], T0, (state) => {
            seen.push(state);
            refuse();
          }),
          Refused,
        );
        assert.deepEqual(seen.slice(), [{ file, lock: held('L1', T0 + 30 * MINUTE, T0) }]);
        assert.deepEqual(await storage.catalog.getFile(file.id), file);
        assert.equal(await storage.catalog.findByName('elsewhere.docx'), null);
      });

      it(
        'concurrent renames on two instances to the same names: each name held by one file',
        needsPeer(backend),
        async () => {
          const { storage, peer } = fx();
          const other = await peer();
          const files = await Promise.all(Array.from({ length: 6 }, (_, i) => create(storage, `f${i}.docx`)));
          const renamed = await Promise.all(
            files.map((f, i) =>
              (i % 2 ? other : storage).catalog.renameFile(f.id, numberedNames('target', '.docx', 6), T0, pass),
            ),
          );
          assert.deepEqual(renamed.map((f) => f.name).sort(), [...numberedNames('target', '.docx', 6)].sort());
        },
      );
    });

    describe('deleteFile', () => {
      it('hides the file from every lookup, frees its name and lock; its versions stay readable', async () => {
        const { storage } = fx();
        const file = await create(storage, 'doomed.docx');
        await storage.catalog.commitVersion(file.id, await versionOf(storage, 'v2'), T0 + 1, pass);
        const keep = await create(storage, 'keep.docx');
        const versions = await storage.catalog.listVersions(file.id);
        await storage.catalog.deleteFile(file.id, T0 + 2, pass);
        assert.equal(await storage.catalog.getFile(file.id), null);
        assert.equal(await storage.catalog.getState(file.id, T0 + 2), null);
        assert.equal(await storage.catalog.findByName('doomed.docx'), null);
        assert.deepEqual(
          (await storage.catalog.listFiles()).map((f) => f.id),
          [keep.id],
        );
        assert.deepEqual(
          (await storage.catalog.listStates(T0 + 2)).map((s) => s.file.id),
          [keep.id],
        );
        assert.equal(await storage.locks.get(file.id, T0 + 2), null);
        assert.deepEqual(
          await storage.catalog.getVersion(file.id, 1),
          versions.find((v) => v.version === 1),
        );
        assert.deepEqual(
          await storage.catalog.getVersion(file.id, 2),
          versions.find((v) => v.version === 2),
        );
        const again = await create(storage, 'DOOMED.docx');
        assert.notEqual(again.id, file.id);
        assert.equal(again.version, 1);
      });

      it('a guard that throws changes nothing; the guard sees the lock', async () => {
        const { storage } = fx();
        const file = await create(storage, 'guarded.docx');
        await storage.locks.update(file.id, T0, () => ({ value: 'L1', expiresAt: T0 + 30 * MINUTE }));
        const seen: FileState[] = [];
        await assert.rejects(
          storage.catalog.deleteFile(file.id, T0, (state) => {
            seen.push(state);
            refuse();
          }),
          Refused,
        );
        assert.equal(seen[0]?.lock?.value, 'L1');
        await assertStored(storage, file);
        assert.equal((await storage.locks.get(file.id, T0))?.value, 'L1');
      });

      it('deleting twice: the second rejects with FileNotFoundError', async () => {
        const { storage } = fx();
        const file = await create(storage, 'twice.docx');
        await storage.catalog.deleteFile(file.id, T0, pass);
        await assert.rejects(storage.catalog.deleteFile(file.id, T0, pass), FileNotFoundError);
      });

      it('a deleted file takes no new version and no rename', async () => {
        const { storage } = fx();
        const file = await create(storage, 'deleted.docx');
        await storage.catalog.deleteFile(file.id, T0, pass);
        const version = await versionOf(storage, 'late');
        await assert.rejects(storage.catalog.commitVersion(file.id, version, T0, pass), FileNotFoundError);
        await assert.rejects(storage.catalog.renameFile(file.id, ['x.docx'], T0, pass), FileNotFoundError);
        assert.deepEqual(
          (await storage.catalog.listVersions(file.id)).map((v) => v.version),
          [1],
        );
      });
    });

    describe('across instances', () => {
      it(
        'a change committed on one instance is seen by the very next read on another',
        needsPeer(backend),
        async () => {
          const { storage, peer } = fx();
          const other = await peer();
          const file = await create(storage, 'shared.docx');
          const v2 = await versionOf(storage, 'v2');
          // From here on no I/O but the stores' own: the other instance reads first, so whatever it may remember
          // holds the old state, and each read follows the change it must see without a pause.
          const seen = async () => ({
            version: (await other.catalog.getFile(file.id))?.version ?? null,
            lock: (await other.locks.get(file.id, T0 + 1))?.value ?? null,
            stateLock: (await other.catalog.getState(file.id, T0 + 1))?.lock?.value ?? null,
            listed: (await other.catalog.listStates(T0 + 1)).map((s) => [s.file.name, s.lock?.value ?? null]),
            byName: (await other.catalog.findByName('renamed.docx'))?.id ?? null,
            info: await other.catalog.getUserInfo(file.id, 'alice'),
          });
          const before = {
            version: 1,
            lock: null,
            stateLock: null,
            listed: [['shared.docx', null]],
            byName: null,
            info: null,
          };
          assert.deepEqual(await seen(), before);
          await storage.catalog.commitVersion(file.id, v2, T0 + 1, pass);
          assert.deepEqual(await seen(), { ...before, version: 2 }, 'after commitVersion');
          await storage.locks.update(file.id, T0 + 1, () => ({ value: 'L1', expiresAt: T0 + MINUTE }));
          const locked = { ...before, version: 2, lock: 'L1', stateLock: 'L1', listed: [['shared.docx', 'L1']] };
          assert.deepEqual(await seen(), locked, 'after a lock');
          await storage.catalog.setUserInfo(file.id, 'alice', 'hello');
          assert.deepEqual(await seen(), { ...locked, info: 'hello' }, 'after setUserInfo');
          await storage.catalog.renameFile(file.id, ['renamed.docx'], T0 + 1, pass);
          assert.deepEqual(
            await seen(),
            { ...locked, info: 'hello', listed: [['renamed.docx', 'L1']], byName: file.id },
            'after renameFile',
          );
          await storage.catalog.deleteFile(file.id, T0 + 1, pass);
          assert.deepEqual(
            await seen(),
            { version: null, lock: null, stateLock: null, listed: [], byName: null, info: 'hello' },
            'after deleteFile',
          );
        },
      );
    });

    describe('listStates', () => {
      it('lists every file with its lock as of `now`', async () => {
        const { storage } = fx();
        const locked = await create(storage, 'locked.docx');
        const free = await create(storage, 'free.docx');
        const expiring = await create(storage, 'expiring.docx');
        await storage.locks.update(locked.id, T0, () => ({ value: 'LONG', expiresAt: T0 + 30 * MINUTE }));
        await storage.locks.update(expiring.id, T0, () => ({ value: 'SHORT', expiresAt: T0 + MINUTE }));
        const locksAt = async (now: number) =>
          Object.fromEntries((await storage.catalog.listStates(now)).map((s) => [s.file.name, s.lock?.value ?? null]));
        assert.deepEqual(await locksAt(T0), { 'locked.docx': 'LONG', 'free.docx': null, 'expiring.docx': 'SHORT' });
        assert.deepEqual(await locksAt(T0 + MINUTE), {
          'locked.docx': 'LONG',
          'free.docx': null,
          'expiring.docx': null,
        });
        assert.deepEqual(await locksAt(T0 + 30 * MINUTE), {
          'locked.docx': null,
          'free.docx': null,
          'expiring.docx': null,
        });
        const states = await storage.catalog.listStates(T0);
        assert.deepEqual(
          states.map((s) => s.file).sort((a, b) => a.id.localeCompare(b.id)),
          (await storage.catalog.listFiles()).sort((a, b) => a.id.localeCompare(b.id)),
          'the same files as listFiles',
        );
        assert.deepEqual(states.find((s) => s.file.id === free.id)?.file, free);
      });

      it('an empty catalog lists nothing', async () => {
        const { storage } = fx();
        assert.deepEqual(await storage.catalog.listFiles(), []);
        assert.deepEqual(await storage.catalog.listStates(T0), []);
      });
    });

    describe('user info', () => {
      it('round-trips per file and user, overwrites, and answers null where nothing was set', async () => {
        const { storage } = fx();
        const a = await create(storage, 'a.docx');
        const b = await create(storage, 'b.docx');
        assert.equal(await storage.catalog.getUserInfo(a.id, 'alice'), null);
        await storage.catalog.setUserInfo(a.id, 'alice', 'first');
        await storage.catalog.setUserInfo(a.id, 'alice', 'second');
        await storage.catalog.setUserInfo(a.id, 'bob', 'bob on a');
        assert.equal(await storage.catalog.getUserInfo(a.id, 'alice'), 'second');
        assert.equal(await storage.catalog.getUserInfo(a.id, 'bob'), 'bob on a');
        assert.equal(await storage.catalog.getUserInfo(b.id, 'alice'), null);
        assert.equal(await storage.catalog.getUserInfo(a.id, 'carol'), null);
      });

      it('keeps any string exactly: empty, U+0000, non-ASCII, astral, long', async () => {
        const { storage, peer } = fx();
        const file = await create(storage, 'info.docx');
        const samples = [
          '',
          'nul\u0000in the middle\u0000',
          '{"theme":"dark","name":"Zo\u00eb \u5f20\u4f1f \u0416\u0435\u043d\u044f"}',
          'emoji \u{1f600} and combining e\u0301',
          '\u00e9'.repeat(4096),
        ];
        for (const info of samples) {
          await storage.catalog.setUserInfo(file.id, 'alice', info);
          assert.equal(await storage.catalog.getUserInfo(file.id, 'alice'), info, JSON.stringify(info.slice(0, 30)));
        }
        if (!backend.openPeer) return;
        const other = await peer();
        assert.equal(await other.catalog.getUserInfo(file.id, 'alice'), samples.at(-1), 'another instance reads it');
      });

      it('is not part of a file’s content: versions and modifiedAt stay', async () => {
        const { storage } = fx();
        const file = await create(storage, 'quiet.docx');
        await storage.catalog.setUserInfo(file.id, 'alice', 'x');
        assert.deepEqual(await storage.catalog.getFile(file.id), file);
      });
    });
  });
}
