import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, runQuire, runQuireJson, ServeProcess, waitFor } from './helpers/process-helpers.ts';

/** Anything shaped like a JWT (access tokens and sign-in sessions are JWTs). */
const JWT = /eyJ[\w-]{8,}\.[\w-]{2,}\.[\w-]*/;

/** Asserts that neither `token` nor any part of it past its header, nor any other JWT, is in the server's output. */
function assertNoToken(server: ServeProcess, token: string): void {
  const [, payload = '', signature = ''] = token.split('.');
  for (const [name, text] of [
    ['stdout', server.stdout],
    ['stderr', server.stderr],
  ] as const) {
    for (const part of [token, payload, signature]) {
      assert.ok(
        !text.includes(part),
        `${name} holds the token: ${text.slice(Math.max(0, text.indexOf(part) - 300), text.indexOf(part) + 40)}`,
      );
    }
    assert.doesNotMatch(text, JWT, `${name} holds a JWT`);
    // a parser error keeps the request's raw bytes; written out, they would hold the token as numbers
    assert.ok(!text.includes('rawPacket'), `${name} holds a raw request`);
  }
}

/** Sends `raw` as it is on a connection of its own; resolves with whatever came back once the server closed it. */
function sendRaw(url: string, raw: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.write(raw);
  });
}

/** What `quire serve` writes to its log: every request at debug, and never an access token. */
describe('the server log', () => {
  let dir: string;
  let server: ServeProcess;
  let fileId: string;
  let token: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-logging-'));
    await writeFile(join(dir, 'Log.docx'), 'bytes');
    server = await ServeProcess.start(join(dir, 'data'), { args: ['--log-level', 'trace'] });
    fileId = (await runQuireJson<{ id: string }>(['add', join(dir, 'Log.docx'), '--data', join(dir, 'data')])).id;
    token = (
      await runQuireJson<{ access_token: string }>(['token', fileId, '--user', 'ann', '--data', join(dir, 'data')])
    ).access_token;
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs each answered request once at debug, with the access token redacted from its URL', async () => {
    const url = `${server.url}/wopi/files/${fileId}?access_token=${token}`;
    assert.equal((await fetch(url)).status, 200);
    const refused = await fetch(`${server.url}/wopi/files/${fileId}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'nope' },
    });
    assert.equal(refused.status, 409);
    const lines = await waitFor(
      () => {
        const answered = server.stdout
          .split('\n')
          .filter((l) => l.includes('"request answered"'))
          .map((l) => JSON.parse(l) as { url: string; status: number; level: number });
        // the CheckFileInfo and the refused UNLOCK (the log also holds the start-up /healthz polls)
        return answered.some((l) => l.status === 409) &&
          answered.some((l) => l.status === 200 && l.url.startsWith('/wopi/'))
          ? answered
          : null;
      },
      10_000,
      'both requests in the log',
    );
    const cfi = lines?.find((l) => l.status === 200 && l.url.startsWith('/wopi/'));
    assert.ok(cfi, server.stdout);
    assert.equal(cfi.url, `/wopi/files/${fileId}?access_token=[redacted]`);
    assert.equal(cfi.level, 20, 'debug');
    assert.ok(server.stdout.includes('"request refused"'), 'the refusal is logged with its reason');
    assert.ok(!server.stdout.includes(token), 'the token appears nowhere in the log');
    assert.ok(!server.stderr.includes(token));
  });

  it('at trace, no refusal, error or rejected request writes a token, wherever the request carried it', async () => {
    const bearer = { Authorization: `Bearer ${token}` };
    const answers: Array<[string, number]> = [];
    const ask = async (what: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, init);
      await res.arrayBuffer();
      answers.push([what, res.status]);
    };
    // a token for another file, in the URL and in the header
    await ask('token for another file', `/wopi/files/other?access_token=${token}`);
    await ask('Bearer token for another file', '/wopi/files/other', { headers: bearer });
    // a refusal with the token in the header, and one with a body over its limit
    await ask('refused UNLOCK', `/wopi/files/${fileId}`, {
      method: 'POST',
      headers: { ...bearer, 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'nope' },
    });
    await ask('PUT_USER_INFO too large', `/wopi/files/${fileId}?access_token=${token}`, {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT_USER_INFO' },
      body: 'x'.repeat(10_000),
    });
    // the token in the path itself: a URL the router cannot decode (its reason quotes the path), and no route
    await ask('undecodable URL', `/wopi/files/%E0%A4%A/${token}?access_token=${token}`, { headers: bearer });
    await ask('no such route', `/nope/${token}?access_token=${token}`, { headers: bearer });
    assert.deepEqual(answers, [
      ['token for another file', 401],
      ['Bearer token for another file', 401],
      ['refused UNLOCK', 409],
      ['PUT_USER_INFO too large', 413],
      ['undecodable URL', 400],
      ['no such route', 404],
    ]);
    // a request Node's parser rejects: logged at trace with the error, which keeps the raw request
    const rejected = await sendRaw(
      server.url,
      `GET /wopi/files/${fileId}?access_token=${token} HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${token}\r\nno colon here\r\n\r\n`,
    );
    assert.match(rejected, /^HTTP\/1\.1 400 /);

    await waitFor(
      () =>
        server.stdout.includes('"client error"') &&
        server.stdout.split('"request refused"').length > 4 &&
        server.stdout.includes('"url":"/nope/'),
      10_000,
      'the refusals and the rejected request in the log',
    );
    assertNoToken(server, token);
  });
});

/**
 * An editor that cannot be reached, whose configured URL carries a token: its discovery errors (the start-up line,
 * the host page's warning, the 500 of an enforced proof check) must not write it out.
 */
describe('the server log when the editor fails', () => {
  let dir: string;
  let server: ServeProcess;
  let fileId: string;
  let token: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-logging-editor-'));
    const data = join(dir, 'data');
    await writeFile(join(dir, 'Log.docx'), 'bytes');
    fileId = (await runQuireJson<{ id: string }>(['add', join(dir, 'Log.docx'), '--data', data])).id;
    token = (await runQuireJson<{ access_token: string }>(['token', fileId, '--user', 'ann', '--data', data]))
      .access_token;
    // an admin: the file was added without an owner it could name
    const added = await runQuire(['user', 'add', 'ann', '--admin', '--data', data], {
      env: { QUIRE_PASSWORD: 'long enough 1' },
    });
    assert.equal(added.code, 0, added.stderr);
    // nothing listens there
    const editor = `http://127.0.0.1:${await freePort()}/?access_token=${token}`;
    server = await ServeProcess.start(data, {
      args: ['--log-level', 'trace', '--editor', editor, '--proof-keys', 'enforce'],
    });
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a failed proof check (500) and a failed discovery on the host page log no token', async () => {
    const cfi = await fetch(`${server.url}/wopi/files/${fileId}`, { headers: { Authorization: `Bearer ${token}` } });
    await cfi.arrayBuffer();
    assert.equal(cfi.status, 500, 'proof keys enforced and the editor unreachable');

    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ann', password: 'long enough 1', next: '/' }).toString(),
      redirect: 'manual',
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    const page = await fetch(`${server.url}/files/${fileId}/open?action=edit&access_token=${token}`, {
      headers: { Cookie: cookie },
    });
    await page.arrayBuffer();
    assert.equal(page.status, 502, 'the host page says the editor cannot be reached');

    await waitFor(
      () => server.stdout.includes('"editor discovery failed"') && server.stdout.includes('proof check failed'),
      10_000,
      'the discovery failure and the failed proof check in the log',
    );
    assert.match(server.stdout, /Editor: http:\/\/127\.0\.0\.1:\d+\/\?access_token=\[redacted\]/);
    assertNoToken(server, token);
  });
});
