import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { nonClobberingNames } from '../src/documents/names.ts';
import { openPostgresStorage, type PostgresStorage } from '../src/storage/postgres/index.ts';
import { NameTakenError, type NewVersion } from '../src/storage/types.ts';
import {
  dropTestSchema,
  freshTestSchema,
  postgresAvailable,
  startHost,
  TEST_DATABASE_URL,
  type TestHost,
} from './helpers/host.ts';
import { itemVersionOf, lockOf } from './helpers/misc-helpers.ts';
import { runQuire, ServeProcess } from './helpers/process-helpers.ts';

/**
 * What only PostgreSQL storage promises: several Quire instances (each with its own connection pool) over one
 * schema and one blob directory behave as one host. The protocol itself is covered for every storage kind by the
 * other test files, which loop over `storageKinds`.
 */

const skip = postgresAvailable ? false : `PostgreSQL at ${TEST_DATABASE_URL} is unreachable`;

/** The test database's URL with `schema` first on the search_path, as a deployment would pick its schema. */
function urlWithSchema(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

describe('PostgreSQL: two instances sharing one schema and one blob directory', { skip }, () => {
  const schema = freshTestSchema();
  const secret = randomBytes(48);
  let blobDir: string;
  let storageA: PostgresStorage;
  let storageB: PostgresStorage;
  let a: TestHost;
  let b: TestHost;

  before(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'quire-pg-blobs-'));
    // Both at once: creating the same schema and tables concurrently must not fail either instance.
    [storageA, storageB] = (await Promise.all(
      [1, 2].map(() => openPostgresStorage({ connectionString: TEST_DATABASE_URL, schema, blobDir })),
    )) as [PostgresStorage, PostgresStorage];
    assert.notEqual(storageA.db.pool, storageB.db.pool, 'two pools, as two processes would have');
    a = await startHost({ storage: storageA, secret });
    b = await startHost({ storage: storageB, secret });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropTestSchema(schema);
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });

  const blobOf = (content: string) => storageA.blobs.write(Readable.from([Buffer.from(content)]));
  const importVersion = async (content: string): Promise<NewVersion> => ({
    blob: await blobOf(content),
    authorId: 'tester',
    source: 'import',
  });

  it('concurrent LOCK requests with different ids through the two hosts: exactly one wins', async () => {
    for (let round = 0; round < 15; round++) {
      const fileId = await a.addFile(`race-${round}.docx`, 'x');
      const [ca, cb] = await Promise.all([a.client(fileId), b.client(fileId)]);
      const [ra, rb] = await Promise.all([ca.lock(`lock-A-${round}`), cb.lock(`lock-B-${round}`)]);
      const statuses = [ra.status, rb.status].sort();
      assert.deepEqual(statuses, [200, 409], `round ${round}: ${ra.status} ${ra.text} / ${rb.status} ${rb.text}`);
      const winner = ra.status === 200 ? `lock-A-${round}` : `lock-B-${round}`;
      const loser = ra.status === 200 ? rb : ra;
      assert.equal(lockOf(loser), winner, 'the 409 names the lock that won');
      assert.equal(lockOf(await ca.getLock()), winner);
      assert.equal(lockOf(await cb.getLock()), winner);
    }
  });

  it('a lock taken through host A binds host B; a PutFile through A is visible through B', async () => {
    const fileId = await a.addFile('shared.docx', 'first');
    const ca = await a.client(fileId);
    const cb = await b.client(fileId);
    assert.equal((await ca.lock('L-shared')).status, 200);

    const refused = await cb.putFile('not mine', { 'X-WOPI-Lock': 'other' });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(lockOf(refused), 'L-shared');

    const put = await ca.putFile('second version', { 'X-WOPI-Lock': 'L-shared' });
    assert.equal(put.status, 200, put.text);
    assert.equal((await cb.content()).toString(), 'second version');
    const infoA = (await ca.checkFileInfo()).json;
    const infoB = (await cb.checkFileInfo()).json;
    assert.equal(infoB.Version, infoA.Version);
    assert.equal(infoB.Size, Buffer.byteLength('second version'));
    assert.equal(infoB.LastModifiedTime, infoA.LastModifiedTime);
    assert.equal(itemVersionOf(put), infoB.Version);

    // B saves and unlocks with A's lock id: one lock, whichever instance is asked
    assert.equal((await cb.putFile('third', { 'X-WOPI-Lock': 'L-shared' })).status, 200);
    assert.equal((await cb.unlock('L-shared')).status, 200);
    assert.equal(lockOf(await ca.getLock()), '');
    assert.equal((await ca.content()).toString(), 'third');
  });

  it('saves racing through both hosts become distinct versions, in order, with increasing times', async () => {
    const fileId = await a.addFile('busy.docx', 'v1');
    const ca = await a.client(fileId);
    const cb = await b.client(fileId);
    assert.equal((await ca.lock('L-busy')).status, 200);
    const saves = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? cb : ca).putFile(`save ${i}`, { 'X-WOPI-Lock': 'L-busy' })),
    );
    for (const res of saves) assert.equal(res.status, 200, res.text);
    assert.equal(new Set(saves.map(itemVersionOf)).size, 20, 'every save got its own version');
    const versions = await storageB.catalog.listVersions(fileId);
    assert.deepEqual(
      versions.map((v) => v.version),
      Array.from({ length: 21 }, (_, i) => 21 - i),
    );
    for (let i = 1; i < versions.length; i++) {
      assert.ok(
        (versions[i - 1]?.createdAt ?? 0) > (versions[i]?.createdAt ?? 0),
        'LastModifiedTime strictly increases from one version to the next',
      );
    }
  });

  it('concurrent createFile with the same name from both instances gives distinct names', async () => {
    const version = await importVersion('same name');
    const creations = Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? storageB : storageA).catalog.createFile({
        names: nonClobberingNames('Clash.docx'),
        ownerId: 'owner',
        version,
        now: Date.now(),
      }),
    );
    const files = await Promise.all(creations);
    const names = files.map((f) => f.name);
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 16, `distinct names: ${names.join(', ')}`);
    assert.deepEqual(
      names.sort(),
      ['Clash.docx', ...Array.from({ length: 15 }, (_, i) => `Clash (${i + 1}).docx`)].sort(),
    );
    assert.equal(new Set(files.map((f) => f.id)).size, 16);
  });

  it('an exact name claimed from both instances at once: one gets it, the other NameTakenError', async () => {
    const [one, two] = await Promise.all([
      storageA.catalog.createFile({ names: ['one.docx'], ownerId: 'o', version: await importVersion('1'), now: 1 }),
      storageB.catalog.createFile({ names: ['two.docx'], ownerId: 'o', version: await importVersion('2'), now: 1 }),
    ]);
    const allow = () => {};
    const results = await Promise.allSettled([
      storageA.catalog.renameFile(one.id, ['Exact.docx'], Date.now(), allow),
      storageB.catalog.renameFile(two.id, ['EXACT.docx'], Date.now(), allow),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(fulfilled.length, 1);
    assert.equal(rejected.length, 1);
    assert.ok((rejected[0] as PromiseRejectedResult).reason instanceof NameTakenError);
  });

  it('replaceByName from both instances at once: one creates the file, the other adds a version to it', async () => {
    const allow = () => {};
    const [x, y] = await Promise.all([
      storageA.catalog.replaceByName({
        name: 'Target.docx',
        ownerId: 'o',
        version: await importVersion('x'),
        now: Date.now(),
        guard: allow,
      }),
      storageB.catalog.replaceByName({
        name: 'target.docx',
        ownerId: 'o',
        version: await importVersion('y'),
        now: Date.now(),
        guard: allow,
      }),
    ]);
    assert.equal(x.file.id, y.file.id, 'one file');
    assert.deepEqual([x.replaced, y.replaced].sort(), [false, true]);
    assert.equal((await storageA.catalog.getFile(x.file.id))?.version, 2);
  });

  it("a guard's error is rethrown unchanged and the change is rolled back", async () => {
    const fileId = await a.addFile('guarded.docx', 'keep');
    class Refused extends Error {}
    const refusal = new Refused('no');
    await assert.rejects(
      storageB.catalog.commitVersion(fileId, await importVersion('drop'), Date.now(), () => {
        throw refusal;
      }),
      (err) => err === refusal,
    );
    assert.equal((await storageA.catalog.getFile(fileId))?.version, 1);
    await assert.rejects(
      storageB.locks.update(fileId, Date.now(), () => {
        throw refusal;
      }),
      (err) => err === refusal,
    );
    assert.equal(await storageA.locks.get(fileId, Date.now()), null);
  });

  it('ids PostgreSQL text cannot hold (U+0000) are simply not found', async () => {
    const c = await a.client('a\u0000b');
    const res = await c.checkFileInfo();
    assert.equal(res.status, 404, res.text);
    assert.equal(await storageA.catalog.getFile('a\u0000b'), null);
    assert.equal(await storageA.users.findByKey('a\u0000b'), null);
  });
});

describe('PostgreSQL: the command line with --database', { skip }, () => {
  const schema = freshTestSchema();
  const databaseUrl = urlWithSchema(schema);
  let work: string;
  let server: ServeProcess | undefined;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'quire-pg-cli-'));
  });
  after(async () => {
    await server?.stop();
    await dropTestSchema(schema);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('user add, add and token write to PostgreSQL; serve reads them from there', async () => {
    const data = join(work, 'data');
    const source = join(work, 'Plan.docx');
    await writeFile(source, 'PK pretend plan');

    const user = await runQuire(['user', 'add', 'ann', '--admin', '--data', data, '--database', databaseUrl], {
      env: { QUIRE_PASSWORD: 'correct horse 1' },
    });
    assert.equal(user.code, 0, user.stderr);

    const add = await runQuire(['add', source, '--data', data, '--database', databaseUrl]);
    assert.equal(add.code, 0, add.stderr);
    const added = JSON.parse(add.stdout) as { id: string; name: string };
    assert.equal(added.name, 'Plan.docx');

    // the environment variable works as the flag does
    const token = await runQuire(['token', added.id, '--user', 'ann', '--data', data], {
      env: { QUIRE_DATABASE_URL: databaseUrl },
    });
    assert.equal(token.code, 0, token.stderr);
    const { access_token } = JSON.parse(token.stdout) as { access_token: string };

    // the catalog is in PostgreSQL, in the schema the URL's search_path names; no SQLite file was made
    await assert.rejects(access(join(data, 'catalog.sqlite')));
    const storage = await openPostgresStorage({ connectionString: databaseUrl, blobDir: join(data, 'blobs') });
    try {
      assert.equal(storage.db.schema, schema);
      assert.deepEqual(
        (await storage.catalog.listFiles()).map((f) => [f.id, f.name]),
        [[added.id, 'Plan.docx']],
      );
      assert.equal((await storage.users.findByKey('ann'))?.isAdmin, true);
    } finally {
      await storage.close();
    }

    // without --database the same data dir is an empty SQLite store: the token names nothing there
    const missing = await runQuire(['token', added.id, '--user', 'ann', '--data', data]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no file with id/);

    server = await ServeProcess.start(data, { args: ['--database', databaseUrl, '--log-level', 'warn'] });
    const url = `${server.url}/wopi/files/${added.id}`;
    const info = await fetch(`${url}?access_token=${encodeURIComponent(access_token)}`);
    assert.equal(info.status, 200);
    const json = (await info.json()) as { BaseFileName: string; Size: number };
    assert.equal(json.BaseFileName, 'Plan.docx');
    const content = await fetch(`${url}/contents?access_token=${encodeURIComponent(access_token)}`);
    assert.equal(content.status, 200);
    assert.equal(await content.text(), 'PK pretend plan');

    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ann', password: 'correct horse 1', next: '/' }).toString(),
      redirect: 'manual',
    });
    await login.arrayBuffer();
    assert.equal(login.status, 303, 'the user added with --database can sign in');
  });
});
