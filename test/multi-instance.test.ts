import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  dropTestSchema,
  freshTestSchema,
  postgresAvailable,
  readResponse,
  TEST_DATABASE_URL,
  WopiClient,
} from './helpers/host.ts';
import { freePort, REPO_ROOT, runQuire, ServeProcess, waitFor, withTimeout } from './helpers/process-helpers.ts';
import { emptyS3Prefix, needsS3, s3PrefixFor, testS3Options } from './helpers/s3.ts';
import { SlowPut } from './helpers/slow-put.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * Three `quire serve` processes on one PostgreSQL schema and one S3 prefix, with one QUIRE_SECRET and one public URL,
 * behind a real HAProxy (deploy/haproxy.cfg's defaults and backend, round robin, health checks on /readyz). Requests
 * of one editor or user land on different instances; instances are killed and drained under load.
 */

const MB = 1024 * 1024;
const PASSWORD = 'correct horse 1';

function findHaproxy(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
const haproxyBin = findHaproxy();
// CI sets this so the load-balanced runs can never be skipped without anyone noticing.
if (!haproxyBin && process.env.QUIRE_TEST_REQUIRE_HAPROXY === '1') {
  throw new Error('QUIRE_TEST_REQUIRE_HAPROXY=1 but haproxy is not installed (apt-get install haproxy)');
}
const skip = !postgresAvailable
  ? `multi-instance tests skipped: PostgreSQL is unreachable at ${TEST_DATABASE_URL}`
  : needsS3.skip
    ? `multi-instance tests skipped: ${needsS3.skip}`
    : !haproxyBin
      ? 'multi-instance tests skipped: haproxy is not installed (apt-get install haproxy)'
      : undefined;

/** The sections of deploy/haproxy.cfg, by their header line ("defaults", "backend quire" …). */
async function deploySections(): Promise<Map<string, string[]>> {
  const text = await readFile(join(REPO_ROOT, 'deploy', 'haproxy.cfg'), 'utf8');
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line) && !line.startsWith('#')) {
      current = [];
      sections.set(line.trim(), current);
    } else if (current && line.trim() !== '' && !line.trim().startsWith('#')) current.push(line.trim());
  }
  return sections;
}

/**
 * The test's HAProxy configuration: deploy/haproxy.cfg's defaults and backend (checks every 300 ms instead of 2 s;
 * its own servers), a frontend on 127.0.0.1, a stats socket, and two things only a test wants: X-Served-By on every
 * answer, and X-Test-Pin to send a request to one instance (ignored while that one is down).
 */
async function haproxyConfig(port: number, socket: string, servers: Array<{ name: string; port: number }>) {
  const sections = await deploySections();
  const defaults = sections.get('defaults');
  const backend = sections.get('backend quire');
  assert.ok(defaults && backend, 'deploy/haproxy.cfg has a defaults and a "backend quire" section');
  const indent = (lines: string[]) => lines.map((l) => `    ${l}`).join('\n');
  const checks = backend
    .filter((l) => !l.startsWith('server '))
    .map((l) => (l.startsWith('default-server ') ? l.replace(/inter \S+/, 'inter 300ms') : l));
  return `global
    maxconn 1024
    stats socket ${socket} mode 600 level admin

defaults
${indent(defaults)}

frontend quire
    bind 127.0.0.1:${port}
    default_backend quire

backend quire
${indent(checks)}
    http-response set-header X-Served-By %s
${indent(servers.map((s) => `use-server ${s.name} if { req.hdr(X-Test-Pin) -m str ${s.name} }`))}
${indent(servers.map((s) => `server ${s.name} 127.0.0.1:${s.port} check`))}
`;
}

/** Each server's state (UP, DOWN, …) as HAProxy's stats socket tells it. */
async function serverStates(socket: string): Promise<Record<string, string>> {
  const csv = await new Promise<string>((resolve, reject) => {
    const conn = connect(socket);
    let out = '';
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      out += d;
    });
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
    conn.write('show stat\n');
  });
  const [header, ...rows] = csv.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const name = columns.indexOf('svname');
  const status = columns.indexOf('status');
  const states: Record<string, string> = {};
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[0] === 'quire' && !['FRONTEND', 'BACKEND'].includes(cells[name] ?? ''))
      states[cells[name] as string] = cells[status] as string;
  }
  return states;
}

/** The traffic loops still running, stopped in `after` when a failed test left one behind. */
const runningTraffic = new Set<() => void>();

/** Requests sent one after another until stopped: how many, which failed, which instances answered. */
function steadyTraffic(request: () => Promise<Response>) {
  let stopped = false;
  const halt = () => {
    stopped = true;
  };
  runningTraffic.add(halt);
  const failures: string[] = [];
  const servedBy = new Set<string>();
  let count = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await request();
        await res.arrayBuffer();
        count++;
        servedBy.add(res.headers.get('x-served-by') ?? '?');
        if (res.status !== 200) failures.push(`${res.status} from ${res.headers.get('x-served-by')}`);
      } catch (err) {
        failures.push(String(err));
      }
      await sleep(10);
    }
  })();
  return {
    async stop() {
      halt();
      runningTraffic.delete(halt);
      await loop;
      return { count, failures, servedBy };
    },
  };
}

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('several instances behind HAProxy', { skip }, () => {
  const names = ['q1', 'q2', 'q3'] as const;
  type Name = (typeof names)[number];
  let dir: string;
  let schema: string;
  let prefix: string;
  let editor: StandInEditor;
  let haproxy: ChildProcess | undefined;
  let haproxyLog = '';
  let socket: string;
  let lbUrl: string;
  let env: Record<string, string>;
  let serveArgs: (port: number) => string[];
  let storeArgs: string[];
  const ports = {} as Record<Name, number>;
  const servers = {} as Record<Name, ServeProcess>;
  const direct = (name: Name) => `http://127.0.0.1:${ports[name]}`;

  const quire = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const result = await runQuire([...args, '--data', join(dir, 'cli'), ...storeArgs], {
      env: { ...env, ...extraEnv },
    });
    assert.equal(result.code, 0, `quire ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').at(-1) as string);
  };
  const addFile = async (name: string, bytes: Buffer, owner: string): Promise<string> => {
    const source = join(dir, `source-${randomBytes(4).toString('hex')}`);
    await writeFile(source, bytes);
    return (await quire(['add', source, '--name', name, '--owner', owner])).id;
  };
  const operatorToken = async (fileId: string) =>
    (await quire(['token', fileId, '--user', 'ed', '--name', 'Ed'])).access_token as string;
  const startInstance = async (name: Name) => {
    servers[name] = await ServeProcess.start(join(dir, name), {
      port: ports[name],
      args: serveArgs(ports[name]),
      env,
      timeoutMs: 60_000,
    });
  };
  const states = () => serverStates(socket);
  const untilState = (name: Name, state: string, ms = 10_000) =>
    waitFor(async () => (await states())[name] === state, ms, `HAProxy to mark ${name} ${state}`);
  let ann: { id: string; cookie: string };
  let bob: { id: string };

  /** Signs in through the load balancer; the session cookie. */
  const signIn = async (name: string, base = lbUrl) => {
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, password: PASSWORD, next: '/' }).toString(),
      redirect: 'manual',
    });
    await res.arrayBuffer();
    assert.equal(res.status, 303, `${name} signs in`);
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    assert.ok(cookie);
    return cookie;
  };
  const api =
    (cookie: string, base = lbUrl) =>
    async (path: string, init: RequestInit = {}) =>
      readResponse(
        await fetch(`${base}${path}`, {
          ...init,
          headers: { Accept: 'application/json', 'Content-Type': 'application/json', Cookie: cookie },
        }),
      );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-multi-'));
    schema = freshTestSchema();
    prefix = s3PrefixFor(dir);
    editor = await startStandInEditor();
    const s3 = testS3Options(prefix);
    storeArgs = [
      '--database',
      `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      '--s3-bucket',
      s3.bucket,
      '--s3-prefix',
      prefix,
      ...(s3.region ? ['--s3-region', s3.region] : []),
      ...(s3.endpoint ? ['--s3-endpoint', s3.endpoint] : []),
      ...(s3.forcePathStyle ? ['--s3-path-style'] : []),
    ];
    env = {
      // one signing secret for all: a token or a session cookie made by one instance is good on every other
      QUIRE_SECRET: randomBytes(32).toString('base64url'),
      ...(s3.credentials && {
        QUIRE_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        QUIRE_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      }),
    };
    const lbPort = await freePort();
    lbUrl = `http://127.0.0.1:${lbPort}`;
    for (const name of names) ports[name] = await freePort();
    serveArgs = () => [
      ...storeArgs,
      '--public-url',
      lbUrl,
      '--editor',
      editor.url,
      '--log-level',
      'warn',
      '--drain-timeout',
      '15s',
    ];
    // the schema is made by whichever starts first (the others wait on its advisory lock)
    await Promise.all(names.map((name) => startInstance(name)));
    ann = { id: (await quire(['user', 'add', 'ann', '--admin'], { QUIRE_PASSWORD: PASSWORD })).id, cookie: '' };
    bob = { id: (await quire(['user', 'add', 'bob'], { QUIRE_PASSWORD: PASSWORD })).id };

    socket = join(dir, 'haproxy.sock');
    const config = join(dir, 'haproxy.cfg');
    await writeFile(
      config,
      await haproxyConfig(
        lbPort,
        socket,
        names.map((name) => ({ name, port: ports[name] })),
      ),
    );
    haproxy = spawn(haproxyBin as string, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout?.setEncoding('utf8').on('data', (d: string) => {
      haproxyLog += d;
    });
    haproxy.stderr?.setEncoding('utf8').on('data', (d: string) => {
      haproxyLog += d;
    });
    try {
      await waitFor(
        async () => {
          if (haproxy?.exitCode !== null) throw new Error(`haproxy exited: ${haproxyLog}`);
          const s = await states();
          return names.every((name) => s[name] === 'UP');
        },
        15_000,
        'HAProxy to see every instance UP',
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- haproxy\n${haproxyLog}`);
    }
  });

  after(async () => {
    for (const halt of runningTraffic) halt();
    haproxy?.kill('SIGKILL');
    await Promise.all(names.map((name) => servers[name]?.kill('SIGKILL').catch(() => {})));
    await editor?.close();
    if (postgresAvailable && schema) {
      await dropTestSchema(schema);
    }
    if (prefix) await emptyS3Prefix(prefix).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('64 concurrent LOCKs on one file, across all three instances: exactly one wins', { timeout: 60_000 }, async () => {
    const fileId = await addFile('Race.docx', randomBytes(1024), ann.id);
    const c = new WopiClient(lbUrl, fileId, await operatorToken(fileId));
    const answers = await Promise.all(
      Array.from({ length: 64 }, async (_, i) =>
        fetch(c.fileUrl(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': `L${i}` } }).then(
          async (res) => ({ ...(await readResponse(res)), lock: `L${i}` }),
        ),
      ),
    );
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status === 409);
    assert.equal(won.length, 1, `one LOCK wins: ${answers.map((a) => a.status).join(' ')}`);
    assert.equal(lost.length, 63);
    const winner = won[0]?.lock;
    for (const a of lost) assert.equal(a.headers.get('x-wopi-lock'), winner, 'a loser is told the winner’s lock');
    const servedBy = new Set(answers.map((a) => a.headers.get('x-served-by')));
    assert.deepEqual([...servedBy].sort(), [...names], 'the LOCKs reached all three instances');
    for (const name of names) {
      const lock = await new WopiClient(direct(name), fileId, c.token).getLock();
      assert.equal(lock.headers.get('x-wopi-lock'), winner, `${name} sees the winner’s lock`);
    }
  });

  it('30 concurrent saves by three editors: versions never repeat, go up by one per save, every save readable from every instance', {
    timeout: 90_000,
  }, async () => {
    const cookie = await signIn('ann');
    const editors = await Promise.all(
      ['One', 'Two', 'Three'].map(async (who) => {
        const fileId = await addFile(`${who}.docx`, Buffer.from(`${who} v1`), ann.id);
        const c = new WopiClient(lbUrl, fileId, await operatorToken(fileId));
        assert.equal((await c.lock(`LOCK-${who}`)).status, 200);
        return { who, c, lock: `LOCK-${who}` };
      }),
    );
    const saves = await Promise.all(
      editors.flatMap(({ c, lock }) =>
        Array.from({ length: 10 }, async () => {
          const bytes = randomBytes(32 * 1024);
          const res = await c.putFile(bytes, { 'X-WOPI-Lock': lock });
          return { c, bytes, status: res.status, version: res.headers.get('x-wopi-itemversion'), text: res.text };
        }),
      ),
    );
    for (const { who, c } of editors) {
      const mine = saves.filter((s) => s.c === c);
      for (const s of mine) assert.equal(s.status, 200, `${who}: ${s.text}`);
      const versions = mine.map((s) => Number(s.version)).sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        Array.from({ length: 10 }, (_, i) => i + 2),
        `${who}: versions 2…11, each once`,
      );
      const newest = mine.find((s) => s.version === '11');
      for (const name of names) {
        const there = new WopiClient(direct(name), c.fileId, c.token);
        assert.ok((await there.content()).equals(newest?.bytes as Buffer), `${name} serves ${who}’s newest save`);
        // every acknowledged save, by its version, from this instance
        await Promise.all(
          mine.map(async (s) => {
            const res = await fetch(`${direct(name)}/api/files/${c.fileId}/versions/${s.version}/content`, {
              headers: { Cookie: cookie },
            });
            const body = Buffer.from(await res.arrayBuffer());
            assert.equal(res.status, 200);
            assert.ok(body.equals(s.bytes), `${name}: ${who} version ${s.version} byte for byte`);
          }),
        );
      }
    }
  });

  it('a session made through one instance works on every instance; a share removed on one instance ends a token on another within a second; events made on one reach a live stream on another', {
    timeout: 60_000,
  }, async () => {
    ann.cookie = await signIn('ann');
    for (const name of names) {
      const me = await api(ann.cookie, direct(name))('/api/me');
      assert.equal(me.status, 200, `${name}: ${me.text}`);
      assert.equal(me.json.name, 'ann');
    }
    const fileId = await addFile('Shared.docx', Buffer.from('shared v1'), ann.id);
    const shared = await api(ann.cookie)(`/api/files/${fileId}/shares`, {
      method: 'PUT',
      body: JSON.stringify({ user: 'bob', role: 'editor' }),
    });
    assert.equal(shared.status, 200, shared.text);
    const bobCookie = await signIn('bob');
    // the host page on q1 mints bob's token (in his sign-in, for his share)
    const page = await fetch(`${direct('q1')}/files/${fileId}/open?action=edit`, { headers: { Cookie: bobCookie } });
    const token = (await page.text()).match(/name="access_token" value="([^"]+)"/)?.[1];
    assert.ok(token, `the host page carries a token (${page.status})`);
    const on = (name: Name) => new WopiClient(direct(name), fileId, token);

    // ann follows the event stream on q3
    const stream = await fetch(`${direct('q3')}/api/events/stream`, {
      headers: { Cookie: ann.cookie, Accept: 'text/event-stream' },
    });
    assert.equal(stream.status, 200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let frames = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        frames += Buffer.from(value).toString('utf8');
      }
    })().catch(() => {});
    await waitFor(() => frames.includes('retry:'), 10_000, 'the stream to open');
    assert.equal((await on('q2').lock('BOB')).status, 200);
    assert.equal((await on('q1').putFile('bob was here', { 'X-WOPI-Lock': 'BOB' })).status, 200);

    // the share goes, on q1; bob's next call on q2 is refused within about a second
    const removed = await api(ann.cookie, direct('q1'))(`/api/files/${fileId}/shares/user/${bob.id}`, {
      method: 'DELETE',
    });
    assert.equal(removed.status, 204, removed.text);
    const t0 = performance.now();
    await waitFor(
      async () => (await on('q2').checkFileInfo()).status === 401,
      5_000,
      'bob’s token to be refused on q2',
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 2_500, `refused ${Math.round(ms)} ms after the share went (the check is remembered 1 s)`);
    assert.equal((await on('q3').putFile('after removal', { 'X-WOPI-Lock': 'BOB' })).status, 401);

    // what happened on q1 and q2 reached the stream on q3, in order
    await waitFor(() => frames.includes('"share.removed"'), 10_000, 'the share’s removal (made on q1) on q3’s stream');
    const order = ['"lock.taken"', '"file.saved"', '"share.removed"'].map((type) => frames.indexOf(type));
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number))),
      frames,
    );
    await reader.cancel();
    await reading;
  });

  it('SIGKILL of an instance in the middle of a 50 MB PutFile: the old version everywhere, the others keep serving, HAProxy marks it DOWN', {
    timeout: 120_000,
  }, async () => {
    const original = randomBytes(MB);
    const fileId = await addFile('Big.bin', original, ann.id);
    const token = await operatorToken(fileId);
    const c = new WopiClient(lbUrl, fileId, token);
    assert.equal((await c.lock('BIG')).status, 200);
    const probeId = await addFile('Probe.docx', Buffer.from('probe'), ann.id);
    const probe = new WopiClient(lbUrl, probeId, await operatorToken(probeId));
    const traffic = [1, 2].map(() => steadyTraffic(() => fetch(probe.fileUrl())));

    const next = randomBytes(50 * MB);
    const put = new SlowPut(c.fileUrl('/contents'), next.length, 'BIG', { 'X-Test-Pin': 'q2' });
    // a slow client: 20 of the 50 MB, a megabyte every 30 ms; then q2 dies mid-body
    await withTimeout(put.trickle(next, MB, 30, 20 * MB), 60_000, 'the first 20 MB to be sent');
    const killed = await servers.q2.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    put.req.destroy();
    assert.notEqual(await withTimeout(put.status, 10_000, 'the cut upload to settle'), 200);

    await untilState('q2', 'DOWN');
    await sleep(500);
    const seen = await Promise.all(traffic.map((t) => t.stop()));
    const failures = seen.flatMap((s) => s.failures);
    assert.deepEqual(failures, [], 'every request through HAProxy succeeded during and after the kill');
    assert.ok(seen.reduce((n, s) => n + s.count, 0) > 10);

    for (const name of ['q1', 'q3'] as const) {
      const there = new WopiClient(direct(name), fileId, token);
      const info = await there.checkFileInfo();
      assert.equal(info.status, 200);
      const content = await there.content();
      assert.equal(info.json.SHA256, sha256b64(original), `${name}: the old version`);
      assert.ok(content.equals(original), `${name}: the old bytes, byte for byte`);
      assert.equal(String(info.json.Version), '1');
    }
    // through HAProxy too, and the lock is still held
    assert.equal((await c.getLock()).headers.get('x-wopi-lock'), 'BIG');

    // q2 comes back and HAProxy takes it in again
    await startInstance('q2');
    await untilState('q2', 'UP');
  });

  it('SIGTERM of an instance: HAProxy sees it DOWN while it drains, its upload finishes, no request through HAProxy fails', {
    timeout: 90_000,
  }, async () => {
    const fileId = await addFile('Drain.docx', Buffer.from('drain v1'), ann.id);
    const token = await operatorToken(fileId);
    const c = new WopiClient(lbUrl, fileId, token);
    assert.equal((await c.lock('DRAIN')).status, 200);
    const probeId = await addFile('Probe2.docx', Buffer.from('probe'), ann.id);
    const probe = new WopiClient(lbUrl, probeId, await operatorToken(probeId));
    const traffic = [
      steadyTraffic(() => fetch(probe.fileUrl())),
      steadyTraffic(() => fetch(probe.fileUrl('/contents'))),
    ];

    const next = randomBytes(3 * MB);
    const put = new SlowPut(c.fileUrl('/contents'), next.length, 'DRAIN', { 'X-Test-Pin': 'q3' });
    await put.write(next.subarray(0, MB));
    await sleep(300);
    const q3 = servers.q3;
    q3.child.kill('SIGTERM');
    await q3.waitForOutput(/SIGTERM: draining/, 10_000);
    await untilState('q3', 'DOWN');
    assert.ok(q3.running, 'q3 is still draining when HAProxy has taken it out');
    await put.write(next.subarray(MB));
    put.req.end();
    assert.equal(await withTimeout(put.status, 20_000, 'the drained upload to be answered'), 200);
    assert.deepEqual(await q3.exit(20_000), { code: 0, signal: null });
    assert.match(q3.stdout, /Drained in \d+ ms: \d+ requests? in flight finished/, 'nothing was cut');

    await sleep(500);
    const seen = await Promise.all(traffic.map((t) => t.stop()));
    assert.deepEqual(
      seen.flatMap((s) => s.failures),
      [],
      'every request through HAProxy succeeded',
    );
    assert.ok(
      seen.some((s) => s.servedBy.has('q3')),
      'q3 answered requests before it went',
    );
    const now = new WopiClient(direct('q1'), fileId, token);
    assert.ok((await now.content()).equals(next), 'the drained save is there, on another instance');
  });
});
