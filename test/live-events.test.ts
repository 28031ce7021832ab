import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT } from '../src/documents/events.ts';
import type { SqlEventLog } from '../src/storage/sql/events.ts';
import { backends } from './contract/backends.ts';
import { openTestPostgresStorage, postgresAvailable, signIn, startHost, type TestHost } from './helpers/host.ts';

interface Frame {
  id: number;
  data: { id: number; type: string; fileId?: string; details?: Record<string, unknown> };
}

/** Reads Server-Sent Events from `url` until `until` is satisfied by the frames so far (bounded in time). */
async function readFrames(
  url: string,
  cookie: string,
  until: (frames: Frame[]) => boolean,
  options: { lastEventId?: number; onOpen?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<Frame[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 15_000);
  const frames: Frame[] = [];
  try {
    const res = await fetch(url, {
      headers: {
        Cookie: cookie,
        Accept: 'text/event-stream',
        ...(options.lastEventId !== undefined && { 'Last-Event-ID': String(options.lastEventId) }),
      },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    await options.onOpen?.();
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end = buffered.indexOf('\n\n');
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) frames.push({ id: Number(id), data: JSON.parse(data) });
        end = buffered.indexOf('\n\n');
      }
      if (until(frames)) break;
    }
    return frames;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

for (const backend of backends) {
  describe(`live updates across instances [${backend.name}]`, () => {
    let dir: string;
    let a: TestHost;
    let b: TestHost;
    let cookie: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'quire-live-'));
      // two Quire instances on the same data, as two servers behind one address would be
      const storageA = await backend.open(dir);
      const storageB = await backend.openPeer(dir);
      a = await startHost({ storage: storageA, clock: { now: () => Date.now() } });
      b = await startHost({ storage: storageB, clock: { now: () => Date.now() } });
      ({ cookie } = await signIn(a, 'ann', { isAdmin: true }));
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('streams a save made through the other instance', async () => {
      const id = await b.addFile('Live.docx', 'v1', 'alice');
      const c = await b.client(id);
      assert.equal((await c.lock('L')).status, 200);
      const frames = await readFrames(
        `${a.url}/api/events/stream`,
        cookie,
        (f) => f.some((x) => x.data.type === 'file.saved' && x.data.fileId === id),
        {
          onOpen: async () => {
            // the stream is open before the save happens
            await new Promise((r) => setTimeout(r, 300));
            assert.equal((await c.putFile('v2', { 'X-WOPI-Lock': 'L' })).status, 200);
          },
        },
      );
      const saved = frames.find((x) => x.data.type === 'file.saved');
      assert.equal(saved?.data.fileId, id);
      assert.deepEqual(saved?.data.details, { version: 2, size: 2 });
      assert.equal(saved?.id, saved?.data.id, 'the SSE id is the event id');
    });

    it('a client reconnecting with Last-Event-ID first gets what it missed, once', async () => {
      const id = await b.addFile('Missed.docx', 'v1', 'alice');
      const c = await b.client(id);
      const [mark] = (await (
        await fetch(`${a.url}/api/events?limit=1`, { headers: { Cookie: cookie, Accept: 'application/json' } })
      ).json()) as Array<{ id: number }>;
      assert.equal((await c.lock('M')).status, 200);
      assert.equal((await c.unlock('M')).status, 200);
      const frames = await readFrames(
        `${a.url}/api/events/stream`,
        cookie,
        (f) => f.filter((x) => x.data.fileId === id && x.data.type.startsWith('lock.')).length >= 2,
        { lastEventId: mark?.id },
      );
      const mine = frames.filter((x) => x.data.fileId === id).map((x) => x.data.type);
      assert.deepEqual(
        mine.filter((t) => t.startsWith('lock.')),
        ['lock.taken', 'lock.released'],
      );
      assert.equal(new Set(frames.map((x) => x.id)).size, frames.length, 'no event twice');
    });

    it('refuses a stream to someone not signed in', async () => {
      const res = await fetch(`${a.url}/api/events/stream`, { headers: { Accept: 'application/json' } });
      assert.equal(res.status, 401);
    });
  });
}

describe('live updates when events commit out of order [postgres]', {
  skip: postgresAvailable ? undefined : 'PostgreSQL is unreachable',
}, () => {
  it('an event whose transaction commits after a later event’s still reaches the stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quire-live-gap-'));
    const storage = await openTestPostgresStorage(dir);
    const host = await startHost({ storage, clock: { now: () => Date.now() } });
    try {
      const { cookie } = await signIn(host, 'ann', { isAdmin: true });
      const log = storage.events as SqlEventLog;
      let commit: () => void = () => {};
      let taken: (id: number) => void = () => {};
      const earlyId = new Promise<number>((resolve) => {
        taken = resolve;
      });
      let slow: Promise<unknown> = Promise.resolve();
      const frames = await readFrames(
        `${host.url}/api/events/stream`,
        cookie,
        (f) => f.some((x) => x.data.details?.mark === 'early'),
        {
          timeoutMs: 20_000,
          onOpen: async () => {
            // a transaction takes an event id and holds on to it, as a slow change on another instance would
            slow = storage.db.transaction(async (tx) => {
              const early = await log.insert(tx, { type: EVENT.tokenMinted, details: { mark: 'early' } }, Date.now());
              taken(early.id);
              await new Promise<void>((resolve) => {
                commit = resolve;
              });
            });
            const early = await earlyId;
            const late = await log.append({ type: EVENT.tokenMinted, details: { mark: 'late' } }, Date.now());
            assert.ok(late.id > early, 'the later event has the higher id');
            // the stream hands out the later event (its reader's cursor moves past the early id) …
            await new Promise((r) => setTimeout(r, 2500));
            // … and only then does the early one commit
            commit();
            await slow;
          },
        },
      );
      const marks = frames.map((f) => f.data.details?.mark).filter((m) => m !== undefined);
      assert.deepEqual(marks, ['late', 'early'], 'both, each once, the early one late');
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
