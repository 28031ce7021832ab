import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { link, mkdtemp, readdir, readFile, rename, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../src/storage/fs-blobs.ts';
import type { Catalog, Storage } from '../src/storage/types.ts';
import { apiAs, signIn, startHost, storageKinds, type TestHost, type WopiClient } from './helpers/host.ts';

/**
 * Blob GC: bytes nothing references any more (thinned autosaves, forgotten rescued saves, the leftovers of refused
 * saves) are removed once an hour old; bytes a version of any file (deleted ones too) or a rescued save holds never
 * are, and neither are bytes a save or restore is about to reference while GC runs.
 */

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const AUTOSAVE = { 'X-LOOL-WOPI-IsAutosave': 'true' };
const MANUAL = { 'X-LOOL-WOPI-IsAutosave': 'false' };

const keyOf = (content: string) => createHash('sha256').update(content).digest('hex');

/** Every blob file under `blobDir` (not the temp folder). */
async function blobFiles(blobDir: string): Promise<string[]> {
  const entries = await readdir(blobDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

/** Makes every blob look written two hours ago (GC's ages are the file system's, not the test's clock). */
async function ageBlobs(blobDir: string): Promise<void> {
  const then = new Date(Date.now() - 2 * 60 * MINUTE);
  for (const path of await blobFiles(blobDir)) await utimes(path, then, then);
}

/** Storage whose catalog runs `hooks` at chosen points, to put a save or a GC step exactly there. */
function hooked(storage: Storage) {
  const hooks: {
    /** Runs once, right after blob GC read the references (before it removes anything). */
    afterReferencesRead?: () => Promise<void>;
    /** Runs once, right after a version was read (a restore then touches and commits). */
    afterVersionRead?: () => Promise<void>;
  } = {};
  const once = async (name: keyof typeof hooks) => {
    const hook = hooks[name];
    delete hooks[name];
    await hook?.();
  };
  const catalog = new Proxy(storage.catalog, {
    get(target, prop) {
      if (prop === 'referencedBlobKeys') {
        return async () => {
          const keys = await target.referencedBlobKeys();
          await once('afterReferencesRead');
          return keys;
        };
      }
      if (prop === 'getVersion') {
        return async (...args: Parameters<Catalog['getVersion']>) => {
          const version = await target.getVersion(...args);
          await once('afterVersionRead');
          return version;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { storage: { ...storage, catalog }, hooks };
}

for (const kind of storageKinds) {
  describe(`blob garbage collection [${kind.name}]`, () => {
    let dir: string;
    let host: TestHost;
    let hooks: ReturnType<typeof hooked>['hooks'];
    let blobDir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'quire-blob-gc-'));
      const opened = hooked(await kind.open(dir));
      hooks = opened.hooks;
      blobDir = join(dir, 'blobs');
      host = await startHost({
        storage: opened.storage,
        autosaveRetentionMs: 30 * DAY,
        rescuedRetentionMs: 7 * DAY,
      });
    });
    after(async () => {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    });

    const has = (content: string) => host.quire.host.storage.blobs.has(keyOf(content));
    const strayBlob = (content: string) => host.quire.host.storage.blobs.write(Readable.from([Buffer.from(content)]));
    const editorOn = async (id: string, lock: string) => {
      const c = await host.client(id);
      assert.equal((await c.lock(lock)).status, 200);
      return c;
    };
    /** A signed-in API caller (signed in now: sessions expire as the test's clock moves). */
    const api = async () => apiAs(host, (await signIn(host, 'ann', { isAdmin: true })).cookie);
    /** Collects what earlier tests left unreferenced, so each test counts only its own. */
    const cleanSlate = async () => {
      await ageBlobs(blobDir);
      await host.quire.collectGarbage();
    };
    const put = async (c: WopiClient, lock: string, body: string, flags: Record<string, string> = {}) => {
      const res = await c.putFile(body, { 'X-WOPI-Lock': lock, ...flags });
      assert.equal(res.status, 200, res.text);
    };

    it('removes what nothing references once an hour old; keeps every version, deleted files’, rescued saves’', async () => {
      const id = await host.addFile('Kept.docx', 'kept: upload', 'alice');
      const c = await editorOn(id, 'L');
      await put(c, 'L', 'kept: autosave 1', AUTOSAVE);
      await put(c, 'L', 'kept: autosave 2', AUTOSAVE);
      await put(c, 'L', 'kept: manual', MANUAL);
      // a save refused for the lock is kept beside the file (rescued), and forgotten after 7 days
      assert.equal((await (await host.client(id)).putFile('rescued', { 'X-WOPI-Lock': 'OTHER' })).status, 409);
      const deleted = await host.addFile('Deleted.docx', 'kept: deleted file', 'alice');
      assert.equal((await (await host.client(deleted)).deleteFile()).status, 200);
      // bytes written for a save that never became a version
      await strayBlob('a refused save’s leftover');

      host.clock.advance(31 * DAY);
      const retention = await host.quire.applyRetention();
      assert.deepEqual(retention.autosaves, { versions: 1, files: 1 }, 'the first autosave is thinned');
      assert.equal(retention.rescued, 1);

      assert.deepEqual(await host.quire.collectGarbage(), { tempFiles: 0, blobs: 0, bytes: 0 }, 'all young yet');
      await ageBlobs(blobDir);
      await strayBlob('young and unreferenced');
      const garbage = await host.quire.collectGarbage();
      const gone = ['kept: autosave 1', 'rescued', 'a refused save’s leftover'];
      assert.deepEqual(garbage, {
        tempFiles: 0,
        blobs: gone.length,
        bytes: gone.reduce((n, s) => n + Buffer.byteLength(s), 0),
      });
      for (const content of gone) assert.equal(await has(content), false, content);
      for (const content of ['kept: upload', 'kept: autosave 2', 'kept: manual', 'kept: deleted file']) {
        assert.equal(await has(content), true, content);
      }
      assert.equal(await has('young and unreferenced'), true, 'inside the grace period');
      assert.equal((await (await host.client(id)).content()).toString(), 'kept: manual');
      assert.equal((await (await api())(`/api/files/${id}/versions/3/content`)).text, 'kept: autosave 2');
      assert.deepEqual(await host.quire.collectGarbage(), { tempFiles: 0, blobs: 0, bytes: 0 }, 'nothing more');
    });

    it('never removes a blob a save re-used after GC read the references (list, then save the same bytes, then GC)', async () => {
      await cleanSlate();
      const id = await host.addFile('Race.docx', 'race: upload', 'alice');
      const c = await editorOn(id, 'R');
      await strayBlob('race: the same bytes again');
      await ageBlobs(blobDir);
      let saved = false;
      // GC has listed the blob as old and found it unreferenced; now a save sends exactly those bytes
      hooks.afterReferencesRead = async () => {
        await put(c, 'R', 'race: the same bytes again', MANUAL);
        saved = true;
      };
      const garbage = await host.quire.collectGarbage();
      assert.ok(saved, 'the save ran between GC reading the references and removing');
      assert.equal(garbage.blobs, 0, 'the re-used blob was kept');
      assert.equal(await has('race: the same bytes again'), true);
      assert.equal((await c.content()).toString(), 'race: the same bytes again');
      assert.equal((await c.unlock('R')).status, 200);
      await ageBlobs(blobDir);
      assert.equal((await host.quire.collectGarbage()).blobs, 0, 'referenced now');
      assert.equal((await c.content()).toString(), 'race: the same bytes again');
    });

    it('a restore whose bytes GC removed meanwhile is refused with 404; no version without bytes', async () => {
      await cleanSlate();
      const id = await host.addFile('Restore.docx', 'restore: upload', 'alice');
      const c = await editorOn(id, 'S');
      await put(c, 'S', 'restore: autosave 1', AUTOSAVE); // 2
      await put(c, 'S', 'restore: autosave 2', AUTOSAVE); // 3
      await put(c, 'S', 'restore: manual', MANUAL); // 4
      assert.equal((await c.unlock('S')).status, 200);
      host.clock.advance(31 * DAY);
      // the restore has read version 2; before it commits, version 2 is thinned and its bytes collected
      hooks.afterVersionRead = async () => {
        assert.deepEqual((await host.quire.applyRetention()).autosaves, { versions: 1, files: 1 });
        await ageBlobs(blobDir);
        assert.equal((await host.quire.collectGarbage()).blobs, 1);
      };
      const res = await (await api())(`/api/files/${id}/versions/2/restore`, { method: 'POST' });
      assert.equal(res.status, 404, res.text);
      assert.match(res.json.error, /no longer stored/);
      const versions = await host.quire.host.storage.catalog.listVersions(id);
      assert.deepEqual(
        versions.map((v) => v.version),
        [4, 3, 1],
      );
      assert.equal((await (await host.client(id)).content()).toString(), 'restore: manual');
    });
  });
}

describe('a GC that died while it had a blob out of place', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-blob-claims-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the store puts the blob back when it opens; a copy already in place is kept as it is', async () => {
    const store = await new FsBlobStore(dir).init();
    const alone = await store.write(Readable.from([Buffer.from('taken out, then the process died')]));
    const twice = await store.write(Readable.from([Buffer.from('taken out, then written again')]));
    const pathOf = (key: string) => join(dir, key.slice(0, 2), key.slice(2, 4), key);
    // what remove() does first: rename the blob to a claim in tmp/
    await rename(pathOf(alone.key), join(dir, 'tmp', `${alone.key}.0.gc`));
    await link(pathOf(twice.key), join(dir, 'tmp', `${twice.key}.0.gc`));
    assert.equal(await store.has(alone.key), false);

    const reopened = await new FsBlobStore(dir).init();
    assert.equal(await reopened.has(alone.key), true);
    assert.equal((await readFile(pathOf(alone.key))).toString(), 'taken out, then the process died');
    assert.equal((await readFile(pathOf(twice.key))).toString(), 'taken out, then written again');
    assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'no claim left');
  });
});
