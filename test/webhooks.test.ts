import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import { verifySignature } from '../src/webhooks/signature.ts';
import {
  apiAs,
  freshTestSchema,
  postgresAvailable,
  type ReadResponse,
  signIn,
  startHost,
  storageKinds,
  TEST_DATABASE_URL,
  type TestHost,
} from './helpers/host.ts';
import { runQuire, runQuireJson, ServeProcess, waitFor } from './helpers/process-helpers.ts';
import { type ReceivedDelivery, WebhookReceiver } from './helpers/webhook-receiver.ts';

/** Look for due deliveries often: the tests wait for them. */
const FAST = { webhooks: { pollMs: 50 } };

type Api = (path: string, init?: RequestInit) => Promise<ReadResponse>;

async function adminApi(host: TestHost): Promise<Api> {
  const { cookie } = await signIn(host, 'root', { isAdmin: true });
  return apiAs(host, cookie, { 'Content-Type': 'application/json' });
}

const post = (api: Api, path: string, body?: unknown) =>
  api(path, { method: 'POST', ...(body !== undefined && { body: JSON.stringify(body) }) });

async function register(api: Api, url: string, events?: string[]) {
  const res = await post(api, '/api/webhooks', { url, ...(events && { events }), description: 'test' });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; secret: string; url: string; events: string[] | null };
}

const typesOf = (list: ReceivedDelivery[]) => list.map((d) => d.body?.type as string);

async function deliveryLog(api: Api, hookId: string) {
  const res = await api(`/api/webhooks/${hookId}/deliveries`);
  assert.equal(res.status, 200, res.text);
  // biome-ignore lint/suspicious/noExplicitAny: the log's lines are read field by field
  return res.json as any[];
}

for (const kind of storageKinds) {
  describe(`webhooks [${kind.name}]`, () => {
    let host: TestHost;
    let receiver: WebhookReceiver;
    let api: Api;

    before(async () => {
      host = await startHost({ storageKind: kind, ...FAST });
      receiver = await WebhookReceiver.start();
    });
    // the tests move the clock on, past a sign-in's life
    beforeEach(async () => {
      api = await adminApi(host);
    });
    after(async () => {
      await host?.close();
      await receiver?.close();
    });

    it('registering, changing and removing a webhook is audited: who, which receiver (no query), which events', async () => {
      const url = `${receiver.url}?token=receiver-credential`;
      const hook = await register(api, url, ['version.created']);
      const changed = await api(`/api/webhooks/${hook.id}`, {
        method: 'PATCH',
        body: JSON.stringify({ events: ['file.deleted', 'file.renamed'] }),
      });
      assert.equal(changed.status, 200, changed.text);
      assert.equal((await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' })).status, 204);
      type Audited = {
        type: string;
        user?: { name: string };
        details?: { webhook?: string; url?: string; events?: string[] };
      };
      const events = ((await api('/api/events?limit=50')).json as Audited[])
        .filter((e) => e.type.startsWith('webhook.') && e.details?.webhook === hook.id)
        .reverse();
      assert.deepEqual(
        events.map((e) => [e.type, e.user?.name, e.details?.events]),
        [
          ['webhook.created', 'User root', ['version.created']],
          ['webhook.changed', 'User root', ['file.deleted', 'file.renamed']],
          ['webhook.deleted', 'User root', ['file.deleted', 'file.renamed']],
        ],
      );
      for (const e of events) {
        assert.equal(e.details?.url, receiver.url, 'the receiver, without its query');
        assert.equal(JSON.stringify(e).includes('receiver-credential'), false, 'the query stays out of the log');
      }
    });

    it('signs each delivery: the signature verifies over the raw body, and not over a tampered one', async () => {
      const hook = await register(api, receiver.url);
      assert.match(hook.secret, /^whsec_/);
      const listed = await api('/api/webhooks');
      assert.equal(JSON.stringify(listed.json).includes(hook.secret), false, 'the secret is shown only once');
      const ping = await post(api, `/api/webhooks/${hook.id}/ping`);
      assert.equal(ping.status, 202, ping.text);
      const got = (await waitFor(
        () => receiver.delivered.find((d) => d.body?.id === ping.json.id),
        5000,
        'the ping',
      )) as ReceivedDelivery;
      assert.equal(got.headers['quire-webhook-id'], ping.json.id);
      assert.equal(got.headers['content-type'], 'application/json');
      assert.deepEqual(Object.keys(got.body), ['id', 'type', 'createdAt', 'data']);
      assert.equal(got.body.type, 'webhook.ping');
      const timestamp = got.headers['quire-webhook-timestamp'] as string;
      assert.equal(timestamp, String(Math.floor(host.clock.now() / 1000)));
      const header = got.headers['quire-webhook-signature'] as string;
      assert.match(header, /^v1=[0-9a-f]{64}$/);
      const check = (body: Buffer | string, secret = hook.secret) =>
        verifySignature({ secret, header, timestamp, body, nowSeconds: Number(timestamp) });
      assert.equal(check(got.raw), true, 'verifies over the raw body');
      const tampered = Buffer.from(got.raw.toString('utf8').replace('webhook.ping', 'webhook.pong'));
      assert.equal(check(tampered), false, 'a changed body does not verify');
      assert.equal(check(got.raw, 'whsec_wrong'), false, 'another secret does not verify');
      assert.equal(
        verifySignature({ secret: hook.secret, header, timestamp, body: got.raw, nowSeconds: Number(timestamp) + 600 }),
        false,
        'an old timestamp is refused',
      );
      assert.equal((await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' })).status, 204);
    });

    it('tells of every change an editor makes over WOPI: lock, save, rename, unlock, delete', async () => {
      const hook = await register(api, receiver.url);
      const already = receiver.delivered.length;
      const fileId = await host.addFile('Report.docx', 'v1');
      const c = await host.client(fileId);
      assert.equal((await c.lock('L1')).status, 200);
      assert.equal((await c.putFile('v2', { 'X-WOPI-Lock': 'L1' })).status, 200);
      assert.equal((await c.rename('Final report', { 'X-WOPI-Lock': 'L1' })).status, 200);
      assert.equal((await c.unlock('L1')).status, 200);
      assert.equal((await c.deleteFile()).status, 200);
      const expected = [
        'file.created',
        'lock.acquired',
        'version.created',
        'file.renamed',
        'lock.released',
        'file.deleted',
      ];
      await waitFor(() => receiver.delivered.length >= already + expected.length, 10_000, 'six deliveries');
      const got = receiver.delivered.slice(already);
      assert.deepEqual(typesOf(got).sort(), [...expected].sort(), 'each event once');
      const byType = new Map(got.map((d) => [d.body.type as string, d.body]));
      assert.equal(byType.get('version.created')?.data.version, 2);
      assert.equal(byType.get('version.created')?.data.fileId, fileId);
      assert.deepEqual(byType.get('version.created')?.data.actor, { id: 'alice', name: 'Alice Example' });
      assert.equal(byType.get('lock.acquired')?.data.lock, 'L1');
      assert.equal(byType.get('file.renamed')?.data.to, 'Final report.docx');
      assert.equal(byType.get('file.deleted')?.data.name, 'Final report.docx');
      assert.equal(new Set(got.map((d) => d.body.id)).size, expected.length, 'a delivery id each');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.delivered.length, already + expected.length, 'nothing sent twice');
      const log = await deliveryLog(api, hook.id);
      assert.equal(log.length, expected.length);
      assert.ok(log.every((d) => d.state === 'delivered' && d.attempts === 1 && d.lastStatus === 200));
      await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    });

    it('sends only the event types a webhook asked for', async () => {
      const hook = await register(api, receiver.url, ['file.renamed']);
      const already = receiver.delivered.length;
      const fileId = await host.addFile('Only.docx', 'x');
      const c = await host.client(fileId);
      assert.equal((await c.rename('Renamed')).status, 200);
      await waitFor(() => receiver.delivered.length > already, 5000, 'the rename');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(typesOf(receiver.delivered.slice(already)), ['file.renamed']);
      await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    });

    it('retries a receiver that fails (500, then a dropped connection) until it acknowledges, once', async () => {
      const hook = await register(api, receiver.url, ['lock.acquired']);
      const start = receiver.received.length;
      receiver.answerWith(500, 'drop');
      const fileId = await host.addFile('Retry.docx', 'x');
      assert.equal((await (await host.client(fileId)).lock('R1')).status, 200);
      // an attempt is recorded when its answer (or the lack of one) is
      const settledWith = async (
        attempts: number,
        answered: (d: { lastStatus: number; lastError: string }) => boolean,
      ) =>
        waitFor(
          async () => {
            const [d] = await deliveryLog(api, hook.id);
            return d?.attempts === attempts && d.state === 'pending' && answered(d) ? d : undefined;
          },
          5000,
          `attempt ${attempts} recorded`,
        );
      const first = await settledWith(1, (d) => d.lastStatus === 500);
      assert.equal(first.lastStatus, 500);
      assert.match(first.lastError, /HTTP 500/);
      const wait = Date.parse(first.nextAttemptAt) - host.clock.now();
      assert.ok(wait >= 1000 && wait <= 2000, `backs off 1–2 s first, with jitter (${wait} ms)`);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(receiver.received.length, start + 1, 'not sent again before its time');
      host.clock.advance(wait);
      const second = await settledWith(2, (d) => d.lastStatus === null);
      assert.equal(second.lastStatus, null, 'no answer');
      assert.match(second.lastError, /could not reach the receiver/);
      const wait2 = Date.parse(second.nextAttemptAt) - host.clock.now();
      assert.ok(wait2 >= 2000 && wait2 <= 4000, `then 2–4 s (${wait2} ms)`);
      host.clock.advance(wait2);
      const done = await waitFor(
        async () => (await deliveryLog(api, hook.id)).find((d) => d.state === 'delivered'),
        5000,
        'delivered',
      );
      assert.equal(done.attempts, 3);
      assert.equal(done.lastStatus, 200);
      assert.equal(done.lastError, null);
      const sent = receiver.received.slice(start);
      assert.deepEqual(
        sent.map((r) => r.answer),
        [500, 'dropped', 200],
      );
      assert.equal(new Set(sent.map((r) => r.headers['quire-webhook-id'])).size, 1, 'the same delivery id each time');
      host.clock.advance(60 * 60_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.received.length, start + 3, 'acknowledged: never sent again');
      await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    });

    it('honours Retry-After on a 429', async () => {
      const hook = await register(api, receiver.url, ['lock.acquired']);
      receiver.answerWith({ status: 429, headers: { 'Retry-After': '120' } });
      const fileId = await host.addFile('Busy.docx', 'x');
      await (await host.client(fileId)).lock('B1');
      const d = await waitFor(
        async () => {
          const [first] = await deliveryLog(api, hook.id);
          return first?.lastStatus === 429 ? first : undefined;
        },
        5000,
        'the 429 recorded',
      );
      assert.equal(Date.parse(d.nextAttemptAt), host.clock.now() + 120_000);
      host.clock.advance(120_000);
      await waitFor(async () => (await deliveryLog(api, hook.id))[0]?.state === 'delivered', 5000, 'sent after it');
      await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    });

    for (const status of [410, 400]) {
      it(`marks a delivery failed at once on a ${status}, without retrying, and redelivers on request`, async () => {
        const hook = await register(api, receiver.url, ['lock.acquired']);
        const start = receiver.received.length;
        receiver.answerWith(status);
        const fileId = await host.addFile(`Gone ${status}.docx`, 'x');
        await (await host.client(fileId)).lock('G1');
        const failed = await waitFor(
          async () => (await deliveryLog(api, hook.id)).find((d) => d.state === 'failed'),
          5000,
          'failed',
        );
        assert.equal(failed.attempts, 1);
        assert.equal(failed.lastStatus, status);
        assert.match(failed.lastError, new RegExp(`HTTP ${status}: the receiver refused it .*not retried`));
        assert.equal(failed.nextAttemptAt, null);
        host.clock.advance(2 * 60 * 60_000);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.received.length, start + 1, 'not retried');
        const again = await post(api, `/api/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`);
        assert.equal(again.status, 202, again.text);
        assert.equal(again.json.state, 'pending');
        const done = await waitFor(
          async () => (await deliveryLog(api, hook.id)).find((d) => d.state === 'delivered'),
          5000,
          'redelivered',
        );
        assert.equal(done.id, failed.id);
        assert.equal(receiver.received.at(-1)?.headers['quire-webhook-id'], failed.id);
        await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
      });
    }

    it('refuses what is not an http(s) URL or a known event type, and people who are not admins', async () => {
      const before = (await api('/api/webhooks')).json.length;
      for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url', '']) {
        const res = await post(api, '/api/webhooks', { url });
        assert.equal(res.status, 400, url);
        assert.match(res.json.error ?? res.text, /url/i);
      }
      const unknown = await post(api, '/api/webhooks', { url: receiver.url, events: ['file.saved'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.json.error, /unknown event type "file\.saved"/);
      assert.equal((await post(api, '/api/webhooks', { url: receiver.url, events: [] })).status, 400);
      assert.equal((await api('/api/webhooks')).json.length, before, 'nothing was registered');
      const hook = await register(api, receiver.url);
      const patched = await api(`/api/webhooks/${hook.id}`, {
        method: 'PATCH',
        body: JSON.stringify({ url: 'gopher://x', description: 'changed' }),
      });
      assert.equal(patched.status, 400);
      assert.equal((await api('/api/webhooks')).json.find((h: { id: string }) => h.id === hook.id).description, 'test');
      const ok = await api(`/api/webhooks/${hook.id}`, {
        method: 'PATCH',
        body: JSON.stringify({ events: ['file.deleted'], description: 'changed' }),
      });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.json.events, ['file.deleted']);
      assert.equal((await api('/api/webhooks/nope', { method: 'DELETE' })).status, 404);
      assert.equal((await post(api, '/api/webhooks/nope/ping')).status, 404);
      assert.equal((await post(api, `/api/webhooks/${hook.id}/deliveries/nope/redeliver`)).status, 404);
      const { cookie } = await signIn(host, 'pat');
      const asPat = apiAs(host, cookie, { 'Content-Type': 'application/json' });
      assert.equal((await asPat('/api/webhooks')).status, 403);
      assert.equal((await post(asPat, '/api/webhooks', { url: receiver.url })).status, 403);
      const types = await api('/api/webhooks/event-types');
      assert.ok(types.json.some((t: { type: string }) => t.type === 'version.created'));
      await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    });
  });
}

describe('webhooks with two instances on one PostgreSQL database', {
  skip: !postgresAvailable && 'no PostgreSQL',
}, () => {
  it('deliver each event once', async () => {
    const receiver = await WebhookReceiver.start();
    const schema = freshTestSchema();
    const dirs = [await mkdtemp(join(tmpdir(), 'quire-wh-a-')), await mkdtemp(join(tmpdir(), 'quire-wh-b-'))];
    const open = () =>
      openPostgresStorage({
        connectionString: TEST_DATABASE_URL,
        schema,
        blobDir: join(dirs[0] as string, 'blobs'),
        maxConnections: 4,
      });
    const hosts: TestHost[] = [];
    try {
      for (const _ of dirs) hosts.push(await startHost({ storage: await open(), ...FAST }));
      const [a, b] = hosts as [TestHost, TestHost];
      const api = await adminApi(a);
      await register(api, receiver.url, ['lock.acquired', 'lock.released']);
      // slow enough that both instances are polling while deliveries wait
      receiver.otherwise = 200;
      const count = 12;
      for (let i = 0; i < count; i++) {
        const on = i % 2 ? b : a;
        const fileId = await a.addFile(`Doc ${i}.docx`, 'x');
        const c = await on.client(fileId);
        assert.equal((await c.lock(`L${i}`)).status, 200);
        assert.equal((await c.unlock(`L${i}`)).status, 200);
      }
      await waitFor(() => receiver.delivered.length >= 2 * count, 15_000, 'every delivery');
      await new Promise((r) => setTimeout(r, 500));
      const ids = receiver.received.map((r) => r.headers['quire-webhook-id']);
      assert.equal(ids.length, 2 * count, 'nothing sent twice');
      assert.equal(new Set(ids).size, 2 * count);
    } finally {
      for (const h of hosts) await h.close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await client.end();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      await receiver.close();
    }
  });
});

/** The serve process's store: SQLite in the data dir, or a fresh PostgreSQL schema. */
const processKinds = [
  { name: 'sqlite', args: () => [] as string[], drop: async () => {} },
  ...(postgresAvailable
    ? [
        (() => {
          const schema = freshTestSchema();
          const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
          return {
            name: 'postgres',
            args: () => ['--database', url],
            drop: async () => {
              const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
              await client.connect();
              await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
              await client.end();
            },
          };
        })(),
      ]
    : []),
];

for (const kind of processKinds) {
  describe(`webhooks survive SIGKILL [${kind.name}]`, () => {
    it('a delivery in flight when quire serve is killed is sent after restart; no event is lost', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'quire-wh-crash-'));
      // the receiver is slow: it takes the requests and does not answer while Quire runs
      const receiver = await WebhookReceiver.start();
      receiver.otherwise = 'hang';
      let server: ServeProcess | undefined;
      try {
        const db = kind.args();
        const hook = await runQuireJson<{ id: string; secret: string }>([
          'webhook',
          'add',
          receiver.url,
          '--events',
          'lock.acquired,version.created',
          '--data',
          dataDir,
          ...db,
        ]);
        assert.match(hook.secret, /^whsec_/);
        const source = join(dataDir, 'source.docx');
        await writeFile(source, 'v1');
        const added = await runQuireJson<{ id: string }>([
          'add',
          source,
          '--name',
          'Crash.docx',
          '--data',
          dataDir,
          ...db,
        ]);
        const { access_token } = await runQuireJson<{ access_token: string }>([
          'token',
          added.id,
          '--user',
          'ed',
          '--data',
          dataDir,
          ...db,
        ]);
        const serveArgs = ['--log-level', 'warn', '--webhook-timeout', '2s', ...db];
        server = await ServeProcess.start(dataDir, { args: serveArgs });
        const wopi = (override: string, headers: Record<string, string>, body?: string) =>
          fetch(
            `${server?.url}/wopi/files/${added.id}${body === undefined ? '' : '/contents'}?access_token=${access_token}`,
            {
              method: 'POST',
              headers: { 'X-WOPI-Override': override, ...headers },
              ...(body !== undefined && { body }),
            },
          );
        assert.equal((await wopi('LOCK', { 'X-WOPI-Lock': 'K1' })).status, 200);
        assert.equal((await wopi('PUT', { 'X-WOPI-Lock': 'K1' }, 'v2')).status, 200);
        // both committed; both deliveries are in flight, unanswered
        await waitFor(() => receiver.received.length >= 2, 10_000, 'both deliveries in flight');
        const inFlight = receiver.received.map((r) => r.headers['quire-webhook-id'] as string).sort();
        assert.deepEqual(typesOf(receiver.received).sort(), ['lock.acquired', 'version.created']);
        await server.kill('SIGKILL');
        // the receiver comes back and answers; Quire restarts
        receiver.otherwise = 200;
        server = await ServeProcess.start(dataDir, { args: serveArgs });
        await waitFor(() => receiver.delivered.length >= 2, 30_000, 'both delivered after the restart');
        assert.deepEqual(
          receiver.delivered.map((r) => r.headers['quire-webhook-id'] as string).sort(),
          inFlight,
          'the same deliveries, sent again with their ids',
        );
        for (const got of receiver.delivered) {
          const ok = verifySignature({
            secret: hook.secret,
            header: got.headers['quire-webhook-signature'] as string,
            timestamp: got.headers['quire-webhook-timestamp'] as string,
            body: got.raw,
            nowSeconds: Math.floor(Date.now() / 1000),
          });
          assert.equal(ok, true, 'signed after the restart too');
        }
        // the delivery log, through the CLI: both delivered, each on a second attempt or later
        const listed = await runQuire(['webhook', 'deliveries', hook.id, '--data', dataDir, ...db]);
        assert.equal(listed.code, 0, listed.stderr);
        const lines = listed.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { state: string; attempts: number; type: string });
        assert.deepEqual(
          lines.map((l) => l.state),
          ['delivered', 'delivered'],
        );
        assert.ok(
          lines.every((l) => l.attempts >= 2),
          JSON.stringify(lines),
        );
      } finally {
        await server?.kill('SIGKILL').catch(() => {});
        await receiver.close();
        await kind.drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}
