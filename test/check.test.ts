import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { READ_ONLY } from '../src/auth/tokens.ts';
import { startHost, storageKinds, type TestHost } from './helpers/host.ts';
import { type CliResult, freePort, runQuire } from './helpers/process-helpers.ts';

/**
 * `quire check` through the real command line: Quire passes every rule and is left as it was; a proxy in front of
 * a real Quire that breaks one behaviour makes exactly the rule about it fail; a host that is down or silent is a
 * clear error with exit code 2.
 */

const ORIGINAL = Buffer.from('PK\u0003\u0004 the quarterly report, as it was before the check');

interface JsonReport {
  passed: boolean;
  summary: { rules: number; passed: number; failed: number; skipped: number };
  rules: Array<{ id: string; verdict: string; reason?: string; exchange?: unknown }>;
  cleanup: Array<{ what: string; ok: boolean }>;
}

const check = (wopiSrc: string, token: string, ...flags: string[]) =>
  runQuire(['check', wopiSrc, '--token', token, ...flags], { timeoutMs: 120_000 });

/** The rule lines of a text report, by verdict. */
function verdicts(stdout: string): Record<'PASS' | 'FAIL' | 'SKIP', string[]> {
  const out = { PASS: [] as string[], FAIL: [] as string[], SKIP: [] as string[] };
  for (const m of stdout.matchAll(/^(PASS|FAIL|SKIP) (\S+) — /gm)) out[m[1] as 'PASS'].push(m[2] as string);
  return out;
}

const explain = (res: CliResult) => `exit ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;

/** The file as Quire holds it after the check: content, name, lock, and every file in the catalog. */
async function stateOf(host: TestHost, fileId: string, token: string) {
  const client = await host.client(fileId, token);
  const info = await client.checkFileInfo();
  const lock = await client.getLock();
  const files = await host.quire.host.storage.catalog.listFiles();
  return {
    content: await client.content(),
    name: info.json.BaseFileName as string,
    lock: lock.headers.get('X-WOPI-Lock'),
    files: files.map((f) => f.name).sort(),
  };
}

for (const kind of storageKinds) {
  describe(`quire check against Quire (${kind.name})`, () => {
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind });
    });
    after(async () => host?.close());

    it('passes every rule, exits 0, and leaves the file as it found it', async () => {
      const id = await host.addFile('Quarterly report.docx', ORIGINAL);
      await host.addFile('Neighbour.xlsx', 'another file, untouched');
      const token = await host.token(id);
      const before = await stateOf(host, id, token);
      const res = await check(`${host.url}/wopi/files/${id}`, token);
      assert.equal(res.code, 0, explain(res));
      const lines = verdicts(res.stdout);
      assert.deepEqual(lines.FAIL, [], explain(res));
      // Quire gives FileUrl only on S3 with --file-url (test/file-url.test.ts runs that rule)
      assert.deepEqual(lines.SKIP, ['checkfileinfo.file-url'], explain(res));
      assert.ok(lines.PASS.length >= 35, `${lines.PASS.length} rules passed`);
      for (const id of [
        'checkfileinfo.required-properties',
        'putfile.unlocked-nonempty-409',
        'putfile.unlocked-empty-200',
        'putrelative.utf7-name',
        'rename.invalid-name-400',
        'unlock.leaves-unlocked',
      ])
        assert.ok(lines.PASS.includes(id), id);
      assert.match(res.stdout, /\d+ rules: \d+ passed, 0 failed, 1 skipped/);
      assert.match(res.stdout, /put the original content back/);
      assert.ok(!res.stdout.includes(token) && !res.stderr.includes(token), 'the token is never printed');

      const afterwards = await stateOf(host, id, token);
      assert.deepEqual(afterwards.content, ORIGINAL, 'the original bytes are back');
      assert.equal(afterwards.name, 'Quarterly report.docx', 'the original name is back');
      assert.equal(afterwards.lock, '', 'no lock is left');
      assert.deepEqual(afterwards.files, before.files, 'the files PutRelativeFile made are deleted');
    });

    it('with a read-only token: the reading rules pass, every writing rule is skipped with its reason, nothing changes', async () => {
      const id = await host.addFile('Read only.docx', ORIGINAL);
      const token = await host.token(id, { permissions: READ_ONLY });
      const versionBefore = (await (await host.client(id, token)).checkFileInfo()).json.Version;
      const res = await check(`${host.url}/wopi/files/${id}`, token, '--json');
      assert.equal(res.code, 0, explain(res));
      const report = JSON.parse(res.stdout) as JsonReport;
      const passed = report.rules.filter((r) => r.verdict === 'PASS').map((r) => r.id);
      assert.deepEqual(passed, [
        'checkfileinfo.required-properties',
        'checkfileinfo.size-matches-getfile',
        'getfile.item-version',
        'auth.invalid-token',
      ]);
      const skipped = report.rules.filter((r) => r.verdict === 'SKIP');
      assert.equal(skipped.length, report.rules.length - passed.length);
      assert.ok(skipped.some((r) => /UserCanWrite is not true/.test(r.reason ?? '')));
      assert.ok(skipped.some((r) => /UserCanNotWriteRelative: true/.test(r.reason ?? '')));
      assert.ok(skipped.some((r) => /UserCanRename is not true/.test(r.reason ?? '')));
      assert.deepEqual(report.cleanup, [], 'nothing to put back');
      const client = await host.client(id, token);
      assert.equal((await client.checkFileInfo()).json.Version, versionBefore, 'not a single save');
    });
  });
}

/** A request as the proxy received it. */
interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** How the proxy answers one request: `forward` sends a request on to Quire as it is (or as the fault rewrote it). */
type Fault = (seen: Seen, forward: (seen: Seen) => Promise<Answer>) => Promise<Answer>;

/** Headers that describe one hop, not the message. */
const HOP = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'content-encoding']);

/** An HTTP proxy on 127.0.0.1 in front of `target` that lets `fault` change what goes through. */
async function faultProxy(target: string, fault: Fault): Promise<{ url: string; close(): Promise<void> }> {
  const forward = async (seen: Seen): Promise<Answer> => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(seen.headers))
      if (!HOP.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const res = await fetch(`${target}${seen.path}`, {
      method: seen.method,
      headers,
      ...(seen.method !== 'GET' && { body: seen.body }),
    });
    const answer: Answer = { status: res.status, headers: {}, body: Buffer.from(await res.arrayBuffer()) };
    res.headers.forEach((value, name) => {
      if (!HOP.has(name)) answer.headers[name] = value;
    });
    return answer;
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    try {
      const answer = await fault(seen, forward);
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(answer.body);
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const overrideOf = (seen: Seen) => String(seen.headers['x-wopi-override'] ?? '').toUpperCase();
const isContents = (seen: Seen) => new URL(seen.path, 'http://x').pathname.endsWith('/contents');

/** Each case breaks one behaviour of a real Quire; the rule that names it must fail, and only it. */
const FAULTS: Array<{ name: string; fails: string; fault: Fault }> = [
  {
    name: 'RefreshLock refusals lose their X-WOPI-Lock',
    fails: 'refreshlock.mismatch-409',
    async fault(seen, forward) {
      const answer = await forward(seen);
      if (overrideOf(seen) === 'REFRESH_LOCK' && answer.status === 409) delete answer.headers['x-wopi-lock'];
      return answer;
    },
  },
  {
    name: 'a PutFile without a lock on an unlocked, non-empty file is saved (under a lock the host takes itself)',
    fails: 'putfile.unlocked-nonempty-409',
    async fault(seen, forward) {
      if (!(isContents(seen) && overrideOf(seen) === 'PUT' && seen.headers['x-wopi-lock'] === undefined))
        return forward(seen);
      const fileEndpoint = { ...seen, path: seen.path.replace('/contents', ''), body: Buffer.alloc(0) };
      const current = await forward({ ...fileEndpoint, headers: { 'x-wopi-override': 'GET_LOCK' } });
      if (current.headers['x-wopi-lock'] !== '') return forward(seen);
      const lock = 'the-broken-host-s-own-lock';
      await forward({ ...fileEndpoint, headers: { 'x-wopi-override': 'LOCK', 'x-wopi-lock': lock } });
      const saved = await forward({ ...seen, headers: { ...seen.headers, 'x-wopi-lock': lock } });
      await forward({ ...fileEndpoint, headers: { 'x-wopi-override': 'UNLOCK', 'x-wopi-lock': lock } });
      return saved;
    },
  },
  {
    name: 'a taken relative target is refused without X-WOPI-ValidRelativeTarget',
    fails: 'putrelative.relative-taken-409',
    async fault(seen, forward) {
      const answer = await forward(seen);
      delete answer.headers['x-wopi-validrelativetarget'];
      return answer;
    },
  },
  {
    name: 'CheckFileInfo leaves out OwnerId',
    fails: 'checkfileinfo.required-properties',
    async fault(seen, forward) {
      const answer = await forward(seen);
      if (seen.method !== 'GET' || isContents(seen) || answer.status !== 200) return answer;
      const info = JSON.parse(answer.body.toString('utf8'));
      delete info.OwnerId;
      return { ...answer, body: Buffer.from(JSON.stringify(info)) };
    },
  },
];

describe('quire check finds the fault in a broken host', () => {
  let host: TestHost;
  before(async () => {
    host = await startHost();
  });
  after(async () => host?.close());

  for (const { name, fails, fault } of FAULTS) {
    it(`${name}: ${fails} fails, every other rule passes, exit code 1`, async () => {
      const id = await host.addFile('Broken host.docx', ORIGINAL);
      const token = await host.token(id);
      const proxy = await faultProxy(host.url, fault);
      try {
        const res = await check(`${proxy.url}/wopi/files/${id}`, token, '--json');
        assert.equal(res.code, 1, explain(res));
        assert.ok(!res.stdout.includes(token), 'the token is never printed');
        const report = JSON.parse(res.stdout) as JsonReport;
        assert.equal(report.passed, false);
        const failed = report.rules.filter((r) => r.verdict === 'FAIL');
        assert.deepEqual(
          failed.map((r) => r.id),
          [fails],
          JSON.stringify(failed, null, 2),
        );
        assert.ok(failed[0]?.exchange, 'the failing exchange is in the report');
        assert.equal(report.summary.skipped, 1, 'only the FileUrl rule (no FileUrl here)');
        assert.equal(report.summary.passed, report.summary.rules - 2);
        assert.ok(
          report.cleanup.every((s) => s.ok),
          JSON.stringify(report.cleanup),
        );
      } finally {
        await proxy.close();
      }
      const client = await host.client(id, token);
      assert.deepEqual(await client.content(), ORIGINAL, 'the original bytes are back');
    });
  }

  it('prints the failing request and response under the FAIL line, the token redacted', async () => {
    const id = await host.addFile('Broken host, text.docx', ORIGINAL);
    const token = await host.token(id);
    const proxy = await faultProxy(host.url, FAULTS[1]?.fault as Fault);
    try {
      const res = await check(`${proxy.url}/wopi/files/${id}`, token);
      assert.equal(res.code, 1, explain(res));
      assert.ok(!res.stdout.includes(token), 'the token is never printed');
      const block = res.stdout.slice(res.stdout.indexOf('FAIL putfile.unlocked-nonempty-409'));
      assert.match(block, /^FAIL putfile\.unlocked-nonempty-409 — .+\n {4}failed: .*expected 409, got 200/);
      assert.match(
        block,
        /\n {6}> POST http:\/\/127\.0\.0\.1:\d+\/wopi\/files\/[^?]+\/contents\?access_token=\[redacted\]\n/,
      );
      assert.match(block, /\n {6}> X-WOPI-Override: PUT\n/);
      assert.match(block, /\n {6}< 200 OK\n/);
      assert.match(res.stdout, /\d+ rules: \d+ passed, 1 failed, 1 skipped/);
    } finally {
      await proxy.close();
    }
  });
});

describe('quire check when the host cannot be checked', () => {
  it('a host that is down: a clear error, exit code 2, no stack trace', async () => {
    const port = await freePort();
    const res = await check(`http://127.0.0.1:${port}/wopi/files/abc`, 'secret-token-value');
    assert.equal(res.code, 2, explain(res));
    assert.match(res.stderr, /^quire check: CheckFileInfo failed: connection refused by 127\.0\.0\.1:\d+/m);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!res.stderr.includes('secret-token-value') && !res.stdout.includes('secret-token-value'));
  });

  it('a host that accepts the connection and never answers: the timeout, exit code 2', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address && typeof address === 'object');
    try {
      const started = Date.now();
      const res = await check(`http://127.0.0.1:${address.port}/wopi/files/abc`, 'tok', '--timeout', '500ms');
      assert.equal(res.code, 2, explain(res));
      assert.match(res.stderr, /CheckFileInfo failed: no complete answer within 500 ms/);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(Date.now() - started < 30_000, 'it does not hang');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a token the host refuses: exit code 2, naming the status', async () => {
    const host = await startHost();
    try {
      const id = await host.addFile('Report.docx', ORIGINAL);
      const res = await check(`${host.url}/wopi/files/${id}`, 'not-a-token');
      assert.equal(res.code, 2, explain(res));
      assert.match(res.stderr, /CheckFileInfo answered 401/);
    } finally {
      await host.close();
    }
  });

  it('no token: a usage error, exit code 2', async () => {
    const res = await runQuire(['check', 'http://127.0.0.1:1/wopi/files/abc']);
    assert.equal(res.code, 2, explain(res));
    assert.match(res.stderr, /needs --token/);
  });
});
