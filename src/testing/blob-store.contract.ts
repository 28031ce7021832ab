import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobEntry, Storage } from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { filesUnder, freshStorePerTest, openFixture, readBlob, sha256Hex, writeBlob } from './fixture.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The key `backend` gives `bytes`. Blobs are content-addressed, so any store of the backend gives the same key;
 * a throwaway one tells it without the bytes ever touching the store under test.
 */
async function keyIn(backend: StorageBackend, bytes: Buffer): Promise<string> {
  const scratch = await openFixture(backend);
  try {
    return (await writeBlob(scratch.storage, bytes)).key;
  } finally {
    await scratch.close();
  }
}

/** Resolves once `source` has handed everything written to it to its reader. */
async function drained(source: PassThrough): Promise<void> {
  while (source.writableLength > 0 || source.readableLength > 0) await sleep(5);
  await sleep(20);
}

const filesNamed = (files: string[], key: string) => files.filter((f) => f.includes(key));

/** The BlobStore contract: content-addressed, immutable bytes that appear whole or not at all. */
export function blobStoreContract(backend: StorageBackend): void {
  describe(`BlobStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('write answers the SHA-256 and size of the bytes, and read gives the same bytes back', async () => {
      const { storage } = fx();
      const bytes = randomBytes(MiB + 123);
      const blob = await storage.blobs.write(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
      assert.equal(blob.sha256, sha256Hex(bytes));
      assert.equal(blob.size, bytes.length);
      assert.equal(typeof blob.key, 'string');
      assert.ok(blob.key.length > 0);
      assert.equal(await storage.blobs.has(blob.key), true);
      assert.ok((await readBlob(storage, blob.key)).equals(bytes));
    });

    it('an empty blob', async () => {
      const { storage } = fx();
      const blob = await writeBlob(storage, Buffer.alloc(0));
      assert.equal(blob.size, 0);
      assert.equal(blob.sha256, sha256Hex(Buffer.alloc(0)));
      assert.equal((await readBlob(storage, blob.key)).length, 0);
    });

    it('the same bytes give the same key, written one after the other or at once; other bytes another key', async () => {
      const { storage, dir } = fx();
      const bytes = randomBytes(200 * KiB);
      const first = await writeBlob(storage, bytes);
      const again = await writeBlob(storage, bytes);
      assert.deepEqual(again, first);
      const together = await Promise.all(Array.from({ length: 4 }, () => writeBlob(storage, bytes)));
      for (const blob of together) assert.deepEqual(blob, first);
      assert.ok((await readBlob(storage, first.key)).equals(bytes));
      const other = await writeBlob(storage, Buffer.concat([bytes, Buffer.from('!')]));
      assert.notEqual(other.key, first.key);
      const files = await filesUnder(dir);
      assert.equal(filesNamed(files, first.key).length <= 1, true, `at most one file holds the blob: ${files}`);
    });

    it('has() is false for bytes never written; reading them fails', async () => {
      const { storage } = fx();
      await writeBlob(storage, 'something else');
      const key = await keyIn(backend, Buffer.from('never written here'));
      assert.equal(await storage.blobs.has(key), false);
      await assert.rejects(async () => readBlob(storage, key));
    });

    it('a blob is not visible until its write completes', async () => {
      const { storage, dir } = fx();
      const head = randomBytes(256 * KiB);
      const tail = randomBytes(256 * KiB);
      const whole = Buffer.concat([head, tail]);
      const [wholeKey, headKey] = [await keyIn(backend, whole), await keyIn(backend, head)];
      const source = new PassThrough();
      const writing = storage.blobs.write(source);
      source.write(head);
      await drained(source);
      assert.equal(await storage.blobs.has(wholeKey), false, 'not visible while the source is still streaming');
      assert.equal(await storage.blobs.has(headKey), false, 'nor is the part received so far');
      const during = await filesUnder(dir);
      assert.deepEqual(filesNamed(during, wholeKey), [], `no file has its key yet: ${during}`);
      assert.deepEqual(filesNamed(during, headKey), []);
      source.end(tail);
      const blob = await writing;
      assert.equal(blob.key, wholeKey);
      assert.equal(await storage.blobs.has(wholeKey), true);
      assert.ok((await readBlob(storage, wholeKey)).equals(whole));
    });

    it('a source that fails rejects the write and leaves no blob and no temp file', async () => {
      const { storage, dir } = fx();
      await writeBlob(storage, 'already there');
      const before = await filesUnder(dir);
      const partial = randomBytes(300 * KiB);
      const failure = new Error('the client went away');
      const source = new PassThrough();
      const writing = storage.blobs.write(source);
      source.write(partial);
      await drained(source);
      source.destroy(failure);
      await assert.rejects(writing, (err) => err === failure || (err as Error).cause === failure);
      assert.equal(await storage.blobs.has(await keyIn(backend, partial)), false);
      assert.deepEqual(await filesUnder(dir), before, 'no blob and no temp file left behind');
    });

    it('a blob written on one instance is read on another', needsPeer(backend), async () => {
      const { storage, peer } = fx();
      const other = await peer();
      const bytes = randomBytes(64 * KiB);
      const blob = await writeBlob(storage, bytes);
      assert.equal(await other.blobs.has(blob.key), true);
      assert.ok((await readBlob(other, blob.key)).equals(bytes));
    });

    it('a 64 MiB write streams: buffers held stay far below its size', async () => {
      const { storage } = fx();
      // One chunk sent 64 times: the source itself holds 1 MiB, so growth is what the store holds on to.
      const chunk = randomBytes(MiB);
      const count = 64;
      const expected = createHash('sha256');
      for (let i = 0; i < count; i++) expected.update(chunk);
      const held = () => {
        const m = process.memoryUsage();
        return m.arrayBuffers + m.heapUsed;
      };
      const baseline = held();
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, held());
      }, 2);
      let blob: Awaited<ReturnType<typeof storage.blobs.write>>;
      try {
        blob = await storage.blobs.write(
          Readable.from(
            (function* () {
              for (let i = 0; i < count; i++) yield chunk;
            })(),
          ),
        );
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, held());
      assert.equal(blob.size, count * MiB);
      assert.equal(blob.sha256, expected.digest('hex'));
      const growth = peak - baseline;
      assert.ok(growth < 24 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB while writing 64 MiB`);
      const back = createHash('sha256');
      let size = 0;
      for await (const part of storage.blobs.read(blob.key)) {
        back.update(part as Buffer);
        size += (part as Buffer).length;
      }
      assert.equal(size, count * MiB);
      assert.equal(back.digest('hex'), blob.sha256);
    });

    describe('what garbage collection needs', () => {
      const listed = async (storage: Storage) => {
        const entries: BlobEntry[] = [];
        for await (const entry of storage.blobs.list()) entries.push(entry);
        return entries.sort((a, b) => a.key.localeCompare(b.key));
      };
      const entryOf = async (storage: Storage, key: string) => {
        const entry = (await listed(storage)).find((e) => e.key === key);
        assert.ok(entry, `${key} is listed`);
        return entry;
      };
      /** Long enough for any store's clock to tick between two writes. */
      const tick = () => sleep(25);

      it('list() names every blob once, with its size and when it was written', async () => {
        const { storage } = fx();
        const before = Date.now();
        const a = await writeBlob(storage, 'aaa');
        const b = await writeBlob(storage, randomBytes(10 * KiB));
        await writeBlob(storage, 'aaa');
        const empty = await writeBlob(storage, Buffer.alloc(0));
        const after = Date.now();
        const entries = await listed(storage);
        assert.deepEqual(
          entries.map(({ key, size }) => ({ key, size })),
          [a, b, empty].map(({ key, size }) => ({ key, size })).sort((x, y) => x.key.localeCompare(y.key)),
        );
        for (const e of entries) {
          // the store's clock, which may differ a little from this process's
          assert.ok(e.writtenAt > before - 2000 && e.writtenAt < after + 2000, `writtenAt ${e.writtenAt} is now`);
        }
      });

      it('remove() takes a blob last written before the cutoff, not at or after it, and leaves nothing behind', async () => {
        const { storage, dir } = fx();
        const kept = await writeBlob(storage, 'kept');
        const before = await filesUnder(dir);
        const old = await writeBlob(storage, 'old');
        const { writtenAt } = await entryOf(storage, old.key);
        assert.equal(await storage.blobs.remove(old.key, writtenAt), false, 'written at the cutoff: kept');
        assert.ok((await readBlob(storage, old.key)).equals(Buffer.from('old')));
        assert.equal(await storage.blobs.remove(old.key, writtenAt + 1), true);
        assert.equal(await storage.blobs.has(old.key), false);
        await assert.rejects(async () => readBlob(storage, old.key));
        assert.deepEqual(
          (await listed(storage)).map((e) => e.key),
          [kept.key],
        );
        assert.deepEqual(await filesUnder(dir), before, 'no trace of it, nor of how it was removed');
        assert.equal(await storage.blobs.remove(old.key, Number.POSITIVE_INFINITY), false, 'gone: false');
        const never = await keyIn(backend, Buffer.from('never written here'));
        assert.equal(await storage.blobs.remove(never, Number.POSITIVE_INFINITY), false);
        assert.ok((await readBlob(storage, kept.key)).equals(Buffer.from('kept')), 'other blobs untouched');
      });

      it('touch() makes a blob young again, so a remove with an older cutoff keeps it; unknown blobs answer false', async () => {
        const { storage } = fx();
        const blob = await writeBlob(storage, 'restored later');
        const { writtenAt } = await entryOf(storage, blob.key);
        await tick();
        assert.equal(await storage.blobs.touch(blob.key), true);
        assert.ok((await entryOf(storage, blob.key)).writtenAt > writtenAt);
        assert.equal(await storage.blobs.remove(blob.key, writtenAt + 1), false);
        assert.ok((await readBlob(storage, blob.key)).equals(Buffer.from('restored later')));
        assert.equal(await storage.blobs.touch(await keyIn(backend, Buffer.from('nope'))), false);
        assert.equal(
          await storage.blobs.has(await keyIn(backend, Buffer.from('nope'))),
          false,
          'touch creates nothing',
        );
      });

      it('bytes written again after collection listed them are kept (a save re-using an unreferenced blob)', async () => {
        const { storage } = fx();
        const bytes = randomBytes(64 * KiB);
        const blob = await writeBlob(storage, bytes);
        // collection lists the blob as old: it was last written before the cutoff
        const { writtenAt } = await entryOf(storage, blob.key);
        const cutoff = writtenAt + 1;
        await tick();
        // a save of the same bytes lands between the listing and the removal
        assert.deepEqual(await writeBlob(storage, bytes), blob);
        assert.equal(await storage.blobs.remove(blob.key, cutoff), false);
        assert.ok((await readBlob(storage, blob.key)).equals(bytes));
        assert.ok((await entryOf(storage, blob.key)).writtenAt >= cutoff);
      });

      it('a write racing a remove of the same bytes: once the write resolves, the blob is there', async () => {
        const { storage } = fx();
        const bytes = randomBytes(32 * KiB);
        for (let round = 0; round < 30; round++) {
          const blob = await writeBlob(storage, bytes);
          const { writtenAt } = await entryOf(storage, blob.key);
          await sleep(2);
          const [written] = await Promise.all([
            writeBlob(storage, bytes),
            storage.blobs.remove(blob.key, writtenAt + 1),
          ]);
          assert.equal(await storage.blobs.has(written.key), true, `round ${round}`);
          assert.ok((await readBlob(storage, written.key)).equals(bytes), `round ${round}`);
        }
      });
    });
  });
}
