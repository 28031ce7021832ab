import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHost, storageKinds, type TestHost, type WopiResponse } from './helpers/host.ts';
import { itemVersionOf, lockOf, MINUTE, rawRequest } from './helpers/misc-helpers.ts';

/** Asserts a 409 that carries X-WOPI-Lock = `current` ("" for an unlocked file). */
function assertConflict(res: WopiResponse, current: string): void {
  assert.equal(res.status, 409, res.text);
  assert.equal(lockOf(res), current, 'a 409 must carry X-WOPI-Lock with the current lock');
}

for (const kind of storageKinds) {
  describe(`Lock, GetLock, RefreshLock, Unlock, UnlockAndRelock [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('accepts a lock id of exactly 1024 ASCII characters and GetLock returns it whole', async () => {
      const c = await host.client(await host.addFile('long-lock.docx', 'x'));
      const lock = 'abcdefghijklmnopqrstuvwxyz0123456789{}[]"= '.repeat(30).slice(0, 1024);
      assert.equal(lock.length, 1024);
      const res = await c.lock(lock);
      assert.equal(res.status, 200, res.text);
      const got = await c.getLock();
      assert.equal(got.status, 200);
      assert.equal(lockOf(got), lock);
      assert.equal((await c.unlock(lock)).status, 200);
    });

    it('refuses a lock id of 1025 characters with 400 and leaves the file unlocked', async () => {
      const c = await host.client(await host.addFile('too-long-lock.docx', 'x'));
      const res = await c.lock('L'.repeat(1025));
      assert.equal(res.status, 400, res.text);
      assert.equal(lockOf(await c.getLock()), '');
    });

    it('refuses a non-ASCII lock id (raw byte 0xE9, "é" in latin1) with 400', async () => {
      const c = await host.client(await host.addFile('non-ascii-lock.docx', 'x'));
      const res = await rawRequest(c.fileUrl(), {
        method: 'POST',
        headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'caf\u00e9' },
      });
      assert.equal(res.status, 400, res.body.toString());
      assert.equal(lockOf(await c.getLock()), '');
    });

    it('refuses an empty or missing lock id with 400', async () => {
      const c = await host.client(await host.addFile('empty-lock.docx', 'x'));
      assert.equal((await c.lock('')).status, 400);
      assert.equal((await c.override('LOCK')).status, 400);
      assert.equal(lockOf(await c.getLock()), '');
    });

    it('answers 200 when locking again with the same id (a refresh)', async () => {
      const c = await host.client(await host.addFile('relock-same.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      const again = await c.lock('L1');
      assert.equal(again.status, 200, again.text);
      assert.equal(lockOf(await c.getLock()), 'L1');
    });

    it('answers 409 with X-WOPI-Lock = the current lock when locking with another id', async () => {
      const c = await host.client(await host.addFile('relock-other.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      assertConflict(await c.lock('L2'), 'L1');
      assert.equal(lockOf(await c.getLock()), 'L1');
    });

    it('answers 409 with the current lock to Unlock with a wrong id, and keeps the lock', async () => {
      const c = await host.client(await host.addFile('unlock-wrong.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      assertConflict(await c.unlock('WRONG'), 'L1');
      assert.equal(lockOf(await c.getLock()), 'L1');
    });

    it('answers 409 with the current lock to RefreshLock with a wrong id, and keeps the lock', async () => {
      const c = await host.client(await host.addFile('refresh-wrong.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      assertConflict(await c.refreshLock('WRONG'), 'L1');
      assert.equal(lockOf(await c.getLock()), 'L1');
    });

    it('answers 409 with an empty X-WOPI-Lock to Unlock, RefreshLock and UnlockAndRelock on an unlocked file', async () => {
      const c = await host.client(await host.addFile('unlocked-ops.docx', 'x'));
      assertConflict(await c.unlock('L1'), '');
      assertConflict(await c.refreshLock('L1'), '');
      assertConflict(await c.unlockAndRelock('L1', 'L2'), '');
      assert.equal(lockOf(await c.getLock()), '', 'nothing may have locked the file');
    });

    it('UnlockAndRelock with the current lock as X-WOPI-OldLock replaces the lock', async () => {
      const c = await host.client(await host.addFile('relock.docx', 'x'));
      assert.equal((await c.lock('OLD')).status, 200);
      const res = await c.unlockAndRelock('OLD', 'NEW');
      assert.equal(res.status, 200, res.text);
      assert.equal(itemVersionOf(res), (await c.checkFileInfo()).json.Version);
      assert.equal(lockOf(await c.getLock()), 'NEW');
      assertConflict(await c.unlock('OLD'), 'NEW');
      assert.equal((await c.unlock('NEW')).status, 200);
    });

    it('UnlockAndRelock with a wrong X-WOPI-OldLock answers 409 with the current lock and changes nothing', async () => {
      const c = await host.client(await host.addFile('relock-wrong.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      assertConflict(await c.unlockAndRelock('WRONG', 'L2'), 'L1');
      assert.equal(lockOf(await c.getLock()), 'L1');
    });

    it('Lock, RefreshLock and Unlock 200 responses carry X-WOPI-ItemVersion = CheckFileInfo Version', async () => {
      const c = await host.client(await host.addFile('item-version.docx', 'x'));
      const version = (await c.checkFileInfo()).json.Version;
      assert.equal(typeof version, 'string');
      const locked = await c.lock('L1');
      assert.equal(locked.status, 200);
      assert.equal(itemVersionOf(locked), version);
      const relocked = await c.lock('L1');
      assert.equal(relocked.status, 200);
      assert.equal(itemVersionOf(relocked), version);
      const refreshed = await c.refreshLock('L1');
      assert.equal(refreshed.status, 200);
      assert.equal(itemVersionOf(refreshed), version);
      const unlocked = await c.unlock('L1');
      assert.equal(unlocked.status, 200);
      assert.equal(itemVersionOf(unlocked), version);
    });

    it('Unlock releases the lock: GetLock then answers "" and another lock id succeeds', async () => {
      const c = await host.client(await host.addFile('unlock-release.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      assert.equal((await c.unlock('L1')).status, 200);
      assert.equal(lockOf(await c.getLock()), '');
      assert.equal((await c.lock('L2')).status, 200);
      assert.equal(lockOf(await c.getLock()), 'L2');
    });

    it('GetLock on an unlocked file answers 200 with X-WOPI-Lock present and empty', async () => {
      const c = await host.client(await host.addFile('getlock-unlocked.docx', 'x'));
      const res = await c.getLock();
      assert.equal(res.status, 200, res.text);
      assert.equal(lockOf(res), '');
    });

    it('a lock is not tied to a user: another user presenting the same lock id can unlock it', async () => {
      const id = await host.addFile('shared-lock.docx', 'x');
      const alice = await host.client(id, await host.token(id, { userId: 'alice', userName: 'Alice' }));
      const bob = await host.client(id, await host.token(id, { userId: 'bob', userName: 'Bob' }));
      assert.equal((await alice.lock('SESSION')).status, 200);
      assert.equal(lockOf(await bob.getLock()), 'SESSION');
      const res = await bob.unlock('SESSION');
      assert.equal(res.status, 200, res.text);
      assert.equal(lockOf(await alice.getLock()), '');
    });
  });

  describe(`lock expiry [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('keeps a lock for 29m59s', async () => {
      const c = await host.client(await host.addFile('expiry-keep.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(29 * MINUTE + 59_000);
      assert.equal(lockOf(await c.getLock()), 'L1');
      assertConflict(await c.lock('L2'), 'L1');
    });

    it('lets the lock expire after 30 minutes: a different lock succeeds and GetLock shows it', async () => {
      const c = await host.client(await host.addFile('expiry-30.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(30 * MINUTE);
      const res = await c.lock('L2');
      assert.equal(res.status, 200, res.text);
      assert.equal(lockOf(await c.getLock()), 'L2');
    });

    it('treats an expired lock as none: GetLock "" and Unlock/RefreshLock/UnlockAndRelock 409 with ""', async () => {
      const c = await host.client(await host.addFile('expiry-gone.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(30 * MINUTE + 1);
      assert.equal(lockOf(await c.getLock()), '');
      assertConflict(await c.unlock('L1'), '');
      assertConflict(await c.refreshLock('L1'), '');
      assertConflict(await c.unlockAndRelock('L1', 'L2'), '');
      assert.equal(lockOf(await c.getLock()), '');
    });

    it('RefreshLock restarts the 30 minutes', async () => {
      const c = await host.client(await host.addFile('expiry-refresh.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(20 * MINUTE);
      assert.equal((await c.refreshLock('L1')).status, 200);
      host.clock.advance(29 * MINUTE + 59_000); // 49m59s after Lock, 29m59s after RefreshLock
      assert.equal(lockOf(await c.getLock()), 'L1');
      assertConflict(await c.lock('L2'), 'L1');
      host.clock.advance(1_000); // 30 minutes after RefreshLock
      assert.equal(lockOf(await c.getLock()), '');
      assert.equal((await c.lock('L2')).status, 200);
    });

    it('locking again with the same id also restarts the 30 minutes', async () => {
      const c = await host.client(await host.addFile('expiry-relock.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(20 * MINUTE);
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(29 * MINUTE);
      assert.equal(lockOf(await c.getLock()), 'L1');
    });
  });

  describe(`custom lockTtlMs [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, lockTtlMs: 60_000 });
    });
    after(() => host.close());

    it('honours lockTtlMs = 60s: held at 59.999s, expired at 60s', async () => {
      const c = await host.client(await host.addFile('ttl-60s.docx', 'x'));
      assert.equal((await c.lock('L1')).status, 200);
      host.clock.advance(59_999);
      assert.equal(lockOf(await c.getLock()), 'L1');
      assertConflict(await c.lock('L2'), 'L1');
      host.clock.advance(1);
      assert.equal(lockOf(await c.getLock()), '');
      assert.equal((await c.lock('L2')).status, 200);
      assert.equal(lockOf(await c.getLock()), 'L2');
    });
  });

  describe(`concurrent Lock [${kind.name}]`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(() => host.close());

    it('20 concurrent LOCKs with distinct ids: exactly one 200, every other 409 with the winner’s lock', async () => {
      const c = await host.client(await host.addFile('race.docx', 'x'));
      const ids = Array.from({ length: 20 }, (_, i) => `racer-${i}`);
      const results = await Promise.all(ids.map((id) => c.lock(id)));
      const winners = results.map((r, i) => ({ r, id: ids[i] })).filter(({ r }) => r.status === 200);
      assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      const winner = winners[0]?.id as string;
      for (const r of results) {
        if (r.status === 200) continue;
        assertConflict(r, winner);
      }
      assert.equal(lockOf(await c.getLock()), winner);
    });
  });
}
