import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileNotFoundError, type LockRecord, type Storage } from '../storage/types.ts';
import { needsPeer, needsPeerProcess, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, held, MINUTE, newFileIn, Refused, T0, versionOf } from './fixture.ts';
import { inPeerProcess, peerTasks } from './peer.ts';

const newFile = (storage: Storage, name = 'doc.docx') => newFileIn(storage, { name });

const COUNT_ACROSS_PROCESSES = 100;

/** Asserts `value` holds exactly `counts[tag]` of each tag. */
function assertAppends(value: string | undefined, counts: Record<string, number>): void {
  assert.ok(value !== undefined, 'the file is locked');
  const found: Record<string, number> = {};
  for (const ch of value) found[ch] = (found[ch] ?? 0) + 1;
  assert.deepEqual(found, counts, 'every compare-and-set landed once');
}

/** How often the writer changes along `value` ("aabba" → 2). */
const switches = (value: string) => [...value].filter((ch, i) => i > 0 && ch !== value[i - 1]).length;

/** The LockStore contract: compare-and-set on a file's lock, with expiry, atomic across instances. */
export function lockStoreContract(backend: StorageBackend): void {
  describe(`LockStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);
    const lock = (value: string, expiresAt = T0 + 30 * MINUTE): LockRecord => ({ value, expiresAt });

    it('an unlocked file: get answers null, decide sees null and the file, and the lock it returns is stored', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      assert.equal(await storage.locks.get(file.id, T0), null);
      const seen: Array<[LockRecord | null, unknown]> = [];
      const state = await storage.locks.update(file.id, T0, (current, f) => {
        seen.push([current, f]);
        return lock('L1');
      });
      assert.deepEqual(seen, [[null, file]]);
      const stored = held('L1', T0 + 30 * MINUTE, T0);
      assert.deepEqual(state, { file, lock: stored });
      assert.deepEqual(await storage.locks.get(file.id, T0), stored);
      assert.deepEqual((await storage.catalog.getState(file.id, T0))?.lock, stored);
    });

    it('decide sees the current lock; returning another replaces it, returning null clears it', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      await storage.locks.update(file.id, T0, () => lock('L1'));
      let seen: LockRecord | null | undefined;
      await storage.locks.update(file.id, T0 + MINUTE, (current) => {
        seen = current;
        return lock('L2', T0 + 31 * MINUTE);
      });
      assert.deepEqual(seen, held('L1', T0 + 30 * MINUTE, T0));
      assert.deepEqual(await storage.locks.get(file.id, T0 + MINUTE), held('L2', T0 + 31 * MINUTE, T0 + MINUTE));
      const cleared = await storage.locks.update(file.id, T0 + 2 * MINUTE, () => null);
      assert.equal(cleared.lock, null);
      assert.equal(await storage.locks.get(file.id, T0 + 2 * MINUTE), null);
      assert.equal((await storage.catalog.getState(file.id, T0 + 2 * MINUTE))?.lock, null);
    });

    it('a refresh (same value, later expiry) moves the expiry', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      await storage.locks.update(file.id, T0, () => lock('L1', T0 + 30 * MINUTE));
      await storage.locks.update(file.id, T0 + 20 * MINUTE, (current) => ({
        value: current?.value ?? 'none',
        expiresAt: T0 + 50 * MINUTE,
      }));
      assert.equal(await storage.locks.get(file.id, T0 + 40 * MINUTE).then((l) => l?.value), 'L1');
    });

    it('a lock reads as null from its expiry on: get, getState, listStates and decide', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      const expiresAt = T0 + 30 * MINUTE;
      await storage.locks.update(file.id, T0, () => lock('L1', expiresAt));
      assert.deepEqual(await storage.locks.get(file.id, expiresAt - 1), held('L1', expiresAt, T0), 'alive until then');
      assert.equal(await storage.locks.get(file.id, expiresAt), null);
      assert.equal(await storage.locks.get(file.id, expiresAt + 1), null);
      assert.equal((await storage.catalog.getState(file.id, expiresAt))?.lock, null);
      assert.deepEqual(
        (await storage.catalog.listStates(expiresAt)).map((s) => s.lock),
        [null],
      );
      let seen: LockRecord | null | undefined;
      await storage.locks.update(file.id, expiresAt, (current) => {
        seen = current;
        return lock('L2', expiresAt + 30 * MINUTE);
      });
      assert.equal(seen, null, 'an expired lock is no lock to decide()');
      assert.deepEqual(await storage.locks.get(file.id, expiresAt), held('L2', expiresAt + 30 * MINUTE, expiresAt));
    });

    it('a decide() that throws rejects with its error and changes nothing', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      const refusal = new Refused();
      await assert.rejects(
        storage.locks.update(file.id, T0, () => {
          throw refusal;
        }),
        (err) => err === refusal,
      );
      assert.equal(await storage.locks.get(file.id, T0), null, 'still unlocked');

      await storage.locks.update(file.id, T0, () => lock('L1'));
      await assert.rejects(
        storage.locks.update(file.id, T0 + MINUTE, () => {
          throw refusal;
        }),
        (err) => err === refusal,
      );
      assert.deepEqual(await storage.locks.get(file.id, T0 + MINUTE), held('L1', T0 + 30 * MINUTE, T0), 'lock kept');
    });

    it('locking does not change the file: version, modifiedAt and the rest stay', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      await storage.locks.update(file.id, T0 + MINUTE, () => lock('L1'));
      await storage.locks.update(file.id, T0 + 2 * MINUTE, () => null);
      assert.deepEqual(await storage.catalog.getFile(file.id), file);
    });

    it('a missing file: get answers null, update rejects with FileNotFoundError without calling decide', async () => {
      const { storage } = fx();
      let called = false;
      const decide = () => {
        called = true;
        return lock('L1');
      };
      assert.equal(await storage.locks.get('no-such-file', T0), null);
      await assert.rejects(storage.locks.update('no-such-file', T0, decide), FileNotFoundError);
      assert.equal(called, false);
    });

    it('a deleted file: get answers null, update rejects with FileNotFoundError', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      await storage.locks.update(file.id, T0, () => lock('L1'));
      await storage.catalog.deleteFile(file.id, T0, () => {});
      assert.equal(await storage.locks.get(file.id, T0), null);
      await assert.rejects(
        storage.locks.update(file.id, T0, () => lock('L2')),
        FileNotFoundError,
      );
    });

    it('hostile ids (U+0000, a lone surrogate, quotes, 10,000 characters): null and FileNotFoundError', async () => {
      const { storage } = fx();
      await newFile(storage);
      for (const id of HOSTILE_IDS) {
        assert.equal(await storage.locks.get(id, T0), null, JSON.stringify(id.slice(0, 20)));
        await assert.rejects(
          storage.locks.update(id, T0, () => lock('L1')),
          FileNotFoundError,
          JSON.stringify(id.slice(0, 20)),
        );
      }
    });

    it('the store keeps when a lock id was taken and when it was last set: a refresh moves only the latter', async () => {
      const { storage } = fx();
      const file = await newFile(storage);
      const refresh = (now: number) =>
        storage.locks.update(file.id, now, (current) => lock(current?.value ?? 'none', now + 30 * MINUTE));
      await storage.locks.update(file.id, T0, () => lock('L1'));
      await refresh(T0 + 5 * MINUTE);
      assert.deepEqual(
        await storage.locks.get(file.id, T0 + 6 * MINUTE),
        held('L1', T0 + 35 * MINUTE, T0, T0 + 5 * MINUTE),
      );
      await storage.locks.update(file.id, T0 + 7 * MINUTE, () => lock('L2', T0 + 37 * MINUTE));
      assert.deepEqual(
        await storage.locks.get(file.id, T0 + 7 * MINUTE),
        held('L2', T0 + 37 * MINUTE, T0 + 7 * MINUTE),
        'another lock id is taken anew',
      );
      // after its expiry the same id is a new lock
      const later = T0 + 60 * MINUTE;
      await storage.locks.update(file.id, later, () => lock('L2', later + 30 * MINUTE));
      assert.deepEqual(await storage.locks.get(file.id, later), held('L2', later + 30 * MINUTE, later));
    });

    it('releaseSilent releases exactly the live locks neither set, refreshed nor saved under since the cut-off, with their event', async () => {
      const { storage } = fx();
      const take = async (name: string, at: number, expiresAt = at + 30 * MINUTE) => {
        const file = await newFile(storage, name);
        await storage.locks.update(file.id, at, () => lock(`lock-${name}`, expiresAt));
        return file;
      };
      const silent = await take('silent.docx', T0);
      const refreshed = await take('refreshed.docx', T0);
      await storage.locks.update(refreshed.id, T0 + 15 * MINUTE, (c) => lock(c?.value ?? '', T0 + 45 * MINUTE));
      const saved = await take('saved.docx', T0);
      await storage.catalog.commitVersion(saved.id, await versionOf(storage, 'v2'), T0 + 16 * MINUTE, () => {});
      const expired = await take('expired.docx', T0, T0 + 5 * MINUTE);
      await newFile(storage, 'unlocked.docx');

      const described: string[] = [];
      const released = await storage.locks.releaseSilent(T0 + 10 * MINUTE, T0 + 20 * MINUTE, ({ lock, file }) => {
        described.push(`${file.name}:${lock.value}`);
        return { type: 'lock.released', fileId: file.id, details: { lock: lock.value, automatic: true } };
      });
      assert.deepEqual(
        released.map((r) => [r.file.id, r.lock.value]),
        [[silent.id, 'lock-silent.docx']],
      );
      assert.deepEqual(described, ['silent.docx:lock-silent.docx']);
      const at = T0 + 20 * MINUTE;
      assert.equal(await storage.locks.get(silent.id, at), null, 'released');
      assert.equal((await storage.locks.get(refreshed.id, at))?.value, 'lock-refreshed.docx', 'refreshed: kept');
      assert.equal((await storage.locks.get(saved.id, at))?.value, 'lock-saved.docx', 'saved under: kept');
      assert.equal(await storage.locks.get(expired.id, at), null);
      const events = await storage.events.list({ fileId: silent.id, limit: 10 });
      assert.deepEqual(
        events.map((e) => [e.type, e.at, e.details]),
        [['lock.released', at, { lock: 'lock-silent.docx', automatic: true }]],
        'the release is one event, written with it',
      );
      assert.deepEqual(await storage.locks.releaseSilent(T0 + 10 * MINUTE, at), [], 'nothing is released twice');
    });

    it('locks are per file', async () => {
      const { storage } = fx();
      const a = await newFile(storage, 'a.docx');
      const b = await newFile(storage, 'b.docx');
      await storage.locks.update(a.id, T0, () => lock('LA'));
      assert.equal(await storage.locks.get(b.id, T0), null);
      await storage.locks.update(b.id, T0, () => lock('LB'));
      assert.equal((await storage.locks.get(a.id, T0))?.value, 'LA');
    });

    it(
      'compare-and-set: 8 concurrent takers on two instances, exactly one wins, the others see its lock',
      needsPeer(backend),
      async () => {
        const { storage, peer } = fx();
        const other = await peer();
        const file = await newFile(storage);
        const attempts = Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? other : storage).locks.update(file.id, T0, (current) => {
            if (current) throw new Refused(current);
            return lock(`taker-${i}`);
          }),
        );
        const results = await Promise.allSettled(attempts);
        const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        assert.equal(winners.length, 1, 'exactly one taker wins');
        const winner = winners[0]?.lock;
        assert.ok(winner);
        for (const r of results) {
          if (r.status === 'fulfilled') continue;
          assert.ok(r.reason instanceof Refused, `a loser is refused by its decide(), not by storage: ${r.reason}`);
          assert.deepEqual(r.reason.seen, winner, "a loser's decide() saw the winner's lock");
        }
        assert.deepEqual(await storage.locks.get(file.id, T0), winner);
        assert.deepEqual(await other.locks.get(file.id, T0), winner);
      },
    );

    it(
      'compare-and-set: no update is lost when two instances each append to the lock forty times, concurrently',
      needsPeer(backend),
      async () => {
        const { storage, peer } = fx();
        const other = await peer();
        const file = await newFile(storage);
        const args = { fileId: file.id, count: 40, now: T0, expiresAt: T0 + 30 * MINUTE };
        await Promise.all([
          peerTasks.lockAppend(storage, { ...args, tag: 'a' }),
          peerTasks.lockAppend(other, { ...args, tag: 'b' }),
        ]);
        assertAppends((await storage.locks.get(file.id, T0))?.value, { a: 40, b: 40 });
      },
    );

    it(
      'compare-and-set across processes: no update is lost when another process appends at the same time',
      needsPeerProcess(backend),
      async () => {
        const { storage, dir } = fx();
        const file = await newFile(storage);
        const args = {
          fileId: file.id,
          count: COUNT_ACROSS_PROCESSES,
          now: T0,
          expiresAt: T0 + 30 * MINUTE,
          pauseMs: 2,
        };
        const remote = inPeerProcess(backend, dir, 'lockAppend', { ...args, tag: 'b' });
        await remote.started;
        await Promise.all([peerTasks.lockAppend(storage, { ...args, tag: 'a' }), remote.done]);
        const value = (await storage.locks.get(file.id, T0))?.value;
        assertAppends(value, { a: COUNT_ACROSS_PROCESSES, b: COUNT_ACROSS_PROCESSES });
        assert.ok(
          switches(value ?? '') >= 2,
          `the two processes' updates did not interleave (${value}): a vacuous race`,
        );
      },
    );
  });
}
