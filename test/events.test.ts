import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiAs, signIn, startHost, storageKinds, type TestHost } from './helpers/host.ts';

/** The audit trail over real HTTP: what editors and people do becomes events, readable through the API. */

interface EventView {
  id: number;
  at: string;
  type: string;
  fileId?: string;
  user?: { id: string; name: string };
  address?: string;
  client?: string;
  correlationId?: string;
  sessionId?: string;
  details?: Record<string, unknown>;
}

for (const kind of storageKinds) {
  describe(`the event log over HTTP [${kind.name}]`, () => {
    let host: TestHost;
    let cookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      ({ cookie } = await signIn(host, 'ann', { displayName: 'Ann Example', isAdmin: true }));
    });
    after(() => host.close());

    const api = (path: string, init: RequestInit = {}) => apiAs(host, cookie)(path, init);
    const eventsOf = async (fileId: string) => {
      const res = await api(`/api/files/${fileId}/events?limit=100`);
      assert.equal(res.status, 200, res.text);
      return (res.json as EventView[]).reverse();
    };

    it("an editor's lock, saves, rename and unlock are events with who, from where and the WOPI ids", async () => {
      const id = await host.addFile('Minutes.docx', 'v1', 'alice');
      const c = await host.client(id);
      const wopi = { 'X-WOPI-CorrelationId': 'corr-42', 'X-WOPI-SessionId': 'sess-7', 'User-Agent': 'Editor/1.0' };
      assert.equal((await c.lock('L1', wopi)).status, 200);
      assert.equal((await c.lock('L1', wopi)).status, 200, 'a refresh through LOCK');
      assert.equal((await c.refreshLock('L1')).status, 200);
      assert.equal((await c.lock('OTHER', wopi)).status, 409, 'refused: no event');
      assert.equal(
        (await c.putFile('v2', { ...wopi, 'X-WOPI-Lock': 'L1', 'X-LOOL-WOPI-IsAutosave': 'true' })).status,
        200,
      );
      assert.equal((await c.putFile('v3', { 'X-WOPI-Lock': 'WRONG' })).status, 409, 'refused, and its body rescued');
      assert.equal((await c.rename('Final minutes', { 'X-WOPI-Lock': 'L1' })).status, 200);
      assert.equal((await c.unlockAndRelock('L1', 'L2')).status, 200);
      assert.equal((await c.unlock('L2')).status, 200);

      const events = await eventsOf(id);
      assert.deepEqual(
        events.map((e) => e.type),
        // the test's client minted its token through the library: that is an event too
        [
          'file.created',
          'token.minted',
          'lock.taken',
          'file.saved',
          'save.rescued',
          'file.renamed',
          'lock.changed',
          'lock.released',
        ],
      );
      const saved = events.find((e) => e.type === 'file.saved');
      assert.equal(saved?.user?.id, 'alice');
      assert.equal(saved?.address, '127.0.0.1');
      assert.equal(saved?.client, 'Editor/1.0');
      assert.equal(saved?.correlationId, 'corr-42');
      assert.equal(saved?.sessionId, 'sess-7');
      assert.deepEqual(saved?.details, { version: 2, size: 2, autosave: true });
      assert.deepEqual(events.find((e) => e.type === 'file.renamed')?.details, {
        from: 'Minutes.docx',
        to: 'Final minutes.docx',
      });
      for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.at)), e.at);
    });

    it('PutRelativeFile and DeleteFile are events of the files they touch', async () => {
      const id = await host.addFile('Source.docx', 'src', 'alice');
      const c = await host.client(id);
      const res = await c.putRelative('copy', { 'X-WOPI-SuggestedTarget': '.pdf' });
      assert.equal(res.status, 200, res.text);
      const copy = await host.quire.host.storage.catalog.findByName('Source.pdf');
      assert.ok(copy);
      const [created] = await eventsOf(copy.id);
      assert.equal(created?.type, 'file.created');
      assert.deepEqual(created?.details, { name: 'Source.pdf', version: 1, from: id });
      assert.equal((await (await host.client(copy.id)).deleteFile()).status, 200);
      // the document is gone, its events are not
      const all = await api(`/api/events?file=${copy.id}`);
      assert.deepEqual(
        (all.json as EventView[]).map((e) => e.type),
        ['file.deleted', 'token.minted', 'file.created'],
      );
    });

    it('what people do in the web app is recorded too: upload, rename, restore, download, delete', async () => {
      const up = await api('/api/files?name=Plan.docx', { method: 'POST', body: 'plan v1' });
      assert.equal(up.status, 201, up.text);
      const id = (up.json as { id: string }).id;
      const c = await host.client(id);
      assert.equal((await c.lock('L')).status, 200);
      assert.equal((await c.putFile('plan v2', { 'X-WOPI-Lock': 'L' })).status, 200);
      assert.equal((await c.unlock('L')).status, 200);
      const json = (body: unknown) => ({
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal((await api(`/api/files/${id}/rename`, json({ name: 'Plan B' }))).status, 200);
      assert.equal((await api(`/api/files/${id}/versions/1/restore`, { method: 'POST' })).status, 200);
      assert.equal((await api(`/api/files/${id}/content`)).status, 200);
      assert.equal((await api(`/api/files/${id}/versions/2/content`)).status, 200);
      const events = await eventsOf(id);
      assert.deepEqual(
        events.map((e) => [e.type, e.user?.name]),
        [
          ['file.created', 'Ann Example'],
          ['token.minted', 'Alice Example'],
          ['lock.taken', 'Alice Example'],
          ['file.saved', 'Alice Example'],
          ['lock.released', 'Alice Example'],
          ['file.renamed', 'Ann Example'],
          ['file.restored', 'Ann Example'],
          ['file.downloaded', 'Ann Example'],
          ['file.downloaded', 'Ann Example'],
        ],
      );
      assert.deepEqual(events[0]?.details, { name: 'Plan.docx', version: 1, how: 'upload' });
      assert.deepEqual(events[6]?.details, { version: 3, from: 1 });
      assert.deepEqual(
        events.slice(7).map((e) => e.details),
        [{ version: 3 }, { version: 2 }],
      );
      assert.equal((await api(`/api/files/${id}`, { method: 'DELETE' })).status, 204);
      const [last] = (await api(`/api/events?file=${id}&limit=1`)).json as EventView[];
      assert.equal(last?.type, 'file.deleted');
    });

    it('minting a token through the library is an event; queries by user, cursors and JSON lines export work', async () => {
      const id = await host.addFile('Tokens.docx', 'x', 'alice');
      await host.quire.mintToken({ fileId: id, userId: 'bob', userName: 'Bob' });
      const byBob = (await api('/api/events?user=bob')).json as EventView[];
      assert.equal(byBob[0]?.type, 'token.minted');
      assert.deepEqual(byBob[0]?.details?.for, 'bob');

      const newest = (await api('/api/events?limit=3')).json as EventView[];
      assert.equal(newest.length, 3);
      const older = (await api(`/api/events?limit=3&before=${newest[2]?.id}`)).json as EventView[];
      assert.ok(older.every((e) => e.id < (newest[2]?.id ?? 0)));
      const following = (await api(`/api/events?after=${newest[1]?.id}`)).json as EventView[];
      assert.deepEqual(
        following.map((e) => e.id),
        [newest[0]?.id],
      );

      const lines = await fetch(`${host.url}/api/events.jsonl?file=${id}`, { headers: { Cookie: cookie } });
      assert.equal(lines.status, 200);
      assert.match(lines.headers.get('content-type') ?? '', /application\/x-ndjson/);
      const parsed = (await lines.text())
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as EventView);
      assert.deepEqual(
        parsed.map((e) => e.type),
        ['token.minted', 'file.created'],
      );

      assert.equal((await api('/api/events?limit=0')).status, 400);
      assert.equal((await api('/api/events?before=x')).status, 400);
      const anonymous = await fetch(`${host.url}/api/events`, { headers: { Accept: 'application/json' } });
      assert.equal(anonymous.status, 401);
    });
  });
}
