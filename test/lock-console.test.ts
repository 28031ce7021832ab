import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiAs, signIn, startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { lockOf, MINUTE } from './helpers/misc-helpers.ts';

interface Session {
  fileId: string;
  name: string;
  lock: string;
  expiresAt: string;
  since?: string;
  by?: { id: string; name: string };
  client?: string;
  lastSave?: string;
  editors?: string;
  lastRefresh?: string;
  idleReleaseAt?: string;
}

for (const kind of storageKinds) {
  describe(`open editing sessions and breaking a lock [${kind.name}]`, () => {
    let host: TestHost;
    let owner: string;
    let admin: string;
    let other: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie: owner } = await signIn(host, 'olga'));
      ({ cookie: admin } = await signIn(host, 'root', { isAdmin: true }));
      ({ cookie: other } = await signIn(host, 'otto'));
    });
    after(() => host.close());

    const api = (cookie: string, path: string, init: RequestInit = {}) =>
      apiAs(host, cookie, { 'Content-Type': 'application/json' })(path, init);
    const ownerId = async () => ((await api(owner, '/api/me')).json as { id: string }).id;

    it('lists the locks an editor holds, to admins and the owner only, with what the log knows', async () => {
      const id = await host.addFile('Held.docx', 'v1', await ownerId());
      const c = await host.client(id);
      assert.equal((await c.lock('EDITOR-1', { 'User-Agent': 'Editor/2.0' })).status, 200);
      assert.equal((await c.putFile('v2', { 'X-WOPI-Lock': 'EDITOR-1', 'X-WOPI-Editors': 'alice,bob' })).status, 200);
      for (const cookie of [owner, admin]) {
        const sessions = (await api(cookie, '/api/locks')).json as Session[];
        const held = sessions.find((s) => s.fileId === id);
        assert.ok(held, 'listed');
        assert.equal(held.lock, 'EDITOR-1');
        assert.equal(held.by?.id, 'alice');
        assert.equal(held.client, 'Editor/2.0');
        assert.equal(held.editors, 'alice,bob');
        assert.ok(held.since && held.lastSave && held.expiresAt);
      }
      const forOther = (await api(other, '/api/locks')).json as Session[];
      assert.equal(
        forOther.find((s) => s.fileId === id),
        undefined,
        'not shown to someone who neither owns it nor is an admin',
      );
      assert.equal((await c.unlock('EDITOR-1')).status, 200);
    });

    it("breaking a lock is audited; the old editor's next save is refused and rescued", async () => {
      const id = await host.addFile('Stuck.docx', 'v1', await ownerId());
      const c = await host.client(id);
      assert.equal((await c.lock('DEAD-EDITOR')).status, 200);

      const refused = await api(other, `/api/files/${id}/lock/break`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'mine now' }),
      });
      assert.equal(refused.status, 403, refused.text);
      const noReason = await api(owner, `/api/files/${id}/lock/break`, { method: 'POST', body: '{}' });
      assert.equal(noReason.status, 400, noReason.text);
      assert.equal(lockOf(await c.getLock()), 'DEAD-EDITOR', 'refusals changed nothing');

      const broken = await api(owner, `/api/files/${id}/lock/break`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'the editor crashed an hour ago' }),
      });
      assert.equal(broken.status, 200, broken.text);
      assert.equal(lockOf(await c.getLock()), '');
      const [event] = (await api(owner, `/api/events?file=${id}&limit=1`)).json as Array<{
        type: string;
        user: { id: string };
        details: Record<string, unknown>;
      }>;
      assert.equal(event?.type, 'lock.broken');
      assert.equal(event?.user.id, await ownerId());
      assert.deepEqual(event?.details, { lock: 'DEAD-EDITOR', reason: 'the editor crashed an hour ago' });

      const late = await c.putFile('what the old editor still had', { 'X-WOPI-Lock': 'DEAD-EDITOR' });
      assert.equal(late.status, 409, late.text);
      const rescued = (await api(owner, `/api/files/${id}/rescued`)).json as Array<{ lock: string }>;
      assert.equal(rescued[0]?.lock, 'DEAD-EDITOR', 'the late save is kept');
      assert.equal((await c.content()).toString(), 'v1');

      const again = await api(admin, `/api/files/${id}/lock/break`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'twice' }),
      });
      assert.equal(again.status, 409, 'nothing to break');
    });
    it('a lock whose editor went silent is released after the idle time, audited; a refresh or a save keeps it', async () => {
      const iso = (ms: number) => new Date(ms).toISOString();
      const silent = await host.addFile('Silent.docx', 'v1', await ownerId());
      const busy = await host.addFile('Busy.docx', 'v1', await ownerId());
      const saving = await host.addFile('Saving.docx', 'v1', await ownerId());
      const cs = await host.client(silent);
      const cb = await host.client(busy);
      const cv = await host.client(saving);
      const t0 = host.clock.now();
      for (const [c, l] of [
        [cs, 'GONE'],
        [cb, 'BUSY'],
        [cv, 'SAVING'],
      ] as const)
        assert.equal((await c.lock(l)).status, 200);

      host.clock.advance(10 * MINUTE);
      assert.equal((await cb.refreshLock('BUSY')).status, 200);
      host.clock.advance(5 * MINUTE);
      assert.equal((await cv.putFile('v2', { 'X-WOPI-Lock': 'SAVING' })).status, 200);
      const listed = ((await api(owner, '/api/locks')).json as Session[]).filter((s) =>
        [silent, busy, saving].includes(s.fileId),
      );
      const byName = Object.fromEntries(listed.map((s) => [s.name, s]));
      assert.equal(byName['Busy.docx']?.lastRefresh, iso(t0 + 10 * MINUTE), 'the refresh is shown');
      assert.equal(byName['Busy.docx']?.since, iso(t0), 'since: when the lock was taken, not refreshed');
      assert.equal(byName['Silent.docx']?.idleReleaseAt, iso(t0 + 20 * MINUTE), '20 minutes after the last refresh');
      // 20 minutes after the last save would be after the lock's own expiry (PutFile does not refresh it): not shown
      assert.equal(byName['Saving.docx']?.idleReleaseAt, undefined);
      assert.equal(byName['Saving.docx']?.expiresAt, iso(t0 + 30 * MINUTE));

      host.clock.advance(6 * MINUTE); // 21 minutes after the silent editor's lock; the others were active since
      assert.deepEqual(await host.quire.releaseIdleLocks(), [silent]);
      assert.equal(lockOf(await cs.getLock()), '', 'released');
      assert.equal(lockOf(await cb.getLock()), 'BUSY');
      assert.equal(lockOf(await cv.getLock()), 'SAVING');
      const [event] = (await api(owner, `/api/events?file=${silent}&limit=1`)).json as Array<{
        type: string;
        details: Record<string, unknown>;
      }>;
      assert.equal(event?.type, 'lock.released');
      assert.equal(event?.details.automatic, true);
      assert.equal(event?.details.lock, 'GONE');
      assert.equal(event?.details.lastActivity, t0);

      // the editor comes back: its save meets an unlocked file, is refused as the protocol says, and is kept
      const late = await cs.putFile('what the silent editor still had', { 'X-WOPI-Lock': 'GONE' });
      assert.equal(late.status, 409, late.text);
      const rescued = (await api(owner, `/api/files/${silent}/rescued`)).json as Array<{ lock: string }>;
      assert.equal(rescued[0]?.lock, 'GONE');
      for (const [c, l] of [
        [cb, 'BUSY'],
        [cv, 'SAVING'],
      ] as const)
        assert.equal((await c.unlock(l)).status, 200);
    });
  });
}
