import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signIn, startHost, type TestHost } from './helpers/host.ts';
import { closeHost } from './helpers/put-helpers.ts';

/**
 * A refused request whose body is still arriving: the client that keeps sending must read the refusal at once and
 * finish sending (the body is read and dropped), and the connection then serves the next request. Clients like
 * Python's http.client only read the answer once they have sent everything, so a body left paused, or a connection
 * closed under them, means they never see it.
 */

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

interface Upload {
  /** ms from the first body byte to the first answer byte. */
  answeredAfterMs: number;
  /** Body bytes sent when the answer came. */
  sentWhenAnswered: number;
  sent: number;
  /** Everything the server sent back on the connection. */
  received: string;
  /** The socket failed (EPIPE, reset) while sending. */
  error: string | undefined;
  ended: boolean;
}

async function open(url: string): Promise<Socket> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  return socket;
}

/**
 * POSTs `total` bytes to `path` by hand in 64 KiB writes with a short pause between them, and does not stop when the
 * answer comes (as a client that reads only afterwards). With `next`, sends that request on the same connection
 * after the body.
 */
async function keepSending(
  url: string,
  path: string,
  headers: Record<string, string>,
  opts: { total: number; chunked: boolean; pauseMs?: number; next?: string },
): Promise<Upload & { socket: Socket }> {
  const socket = await open(url);
  const result: Upload = {
    answeredAfterMs: -1,
    sentWhenAnswered: -1,
    sent: 0,
    received: '',
    error: undefined,
    ended: false,
  };
  socket.on('error', (err) => {
    result.error = err.message;
  });
  socket.on('end', () => {
    result.ended = true;
  });
  const head = [`POST ${path} HTTP/1.1`, `Host: ${new URL(url).host}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  head.push(opts.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${opts.total}`);
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  const start = Date.now();
  socket.on('data', (d: Buffer) => {
    if (result.answeredAfterMs < 0) {
      result.answeredAfterMs = Date.now() - start;
      result.sentWhenAnswered = result.sent;
    }
    result.received += d.toString('latin1');
  });
  const framed = opts.chunked
    ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])
    : CHUNK;
  while (result.sent < opts.total && !socket.destroyed && result.error === undefined) {
    if (!socket.write(framed)) {
      await new Promise<void>((ok) => {
        const done = () => {
          clearTimeout(timer);
          socket.off('drain', done);
          socket.off('close', done);
          ok();
        };
        const timer = setTimeout(done, 10_000);
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
    result.sent += CHUNK.length;
    if (opts.pauseMs) await sleep(opts.pauseMs);
  }
  if (!socket.destroyed && result.error === undefined) {
    if (opts.chunked) socket.write('0\r\n\r\n');
    if (opts.next) socket.write(opts.next);
  }
  return Object.assign(result, { socket });
}

/** The statuses of the answers in what came back (one answer's body runs straight into the next status line). */
const statusLines = (received: string) => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('refused bodies are read and dropped, so a client that keeps sending sees the refusal', () => {
  let host: TestHost;
  let id: string;
  let token: string;
  let cookie: string;

  before(async () => {
    host = await startHost();
    id = await host.addFile('Target.docx', 'content');
    token = await host.token(id);
    ({ cookie } = await signIn(host, 'ann'));
  });
  after(() => closeHost(host));

  const api = () => ({ Cookie: cookie, Accept: 'application/json', 'Content-Type': 'application/json' });
  const routes = (): Array<{ what: string; path: string; headers: Record<string, string>; status: number }> => [
    {
      what: 'PUT_USER_INFO',
      path: `/wopi/files/${id}?access_token=${encodeURIComponent(token)}`,
      headers: { 'X-WOPI-Override': 'PUT_USER_INFO' },
      status: 413,
    },
    { what: 'POST /api/files/new', path: '/api/files/new', headers: api(), status: 413 },
    { what: 'POST /api/files/{id}/rename', path: `/api/files/${id}/rename`, headers: api(), status: 413 },
    // refused before the body is read at all, while it is already piped into the upload limit
    {
      what: 'POST /api/files with an illegal name',
      path: '/api/files?name=CON.docx',
      headers: { Cookie: cookie, Accept: 'application/json' },
      status: 400,
    },
  ];

  for (const chunked of [false, true]) {
    const framing = chunked ? 'chunked' : 'Content-Length';
    it(`32 MiB (${framing}): the answer comes at once, the body is drained, the connection serves on`, async () => {
      for (const route of routes()) {
        const up = await keepSending(host.url, route.path, route.headers, {
          total: 32 * MiB,
          chunked,
          pauseMs: 1,
          next: `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
        });
        try {
          await waitUntil(() => statusLines(up.received).length >= 2 || up.ended || up.error !== undefined, 10_000);
          const what = `${route.what} (${framing})`;
          assert.equal(up.error, undefined, `${what}: the upload failed: ${up.error}`);
          assert.deepEqual(statusLines(up.received), [route.status, 200], `${what}: ${up.received.slice(0, 300)}`);
          assert.ok(
            up.answeredAfterMs >= 0 && up.answeredAfterMs < 3000,
            `${what}: answered after ${up.answeredAfterMs} ms`,
          );
          assert.ok(up.sentWhenAnswered < 32 * MiB, `${what}: answered before the body was all sent`);
          assert.equal(up.sent, 32 * MiB, `${what}: the whole body went through`);
          assert.match(up.received, /nosniff/i);
        } finally {
          up.socket.destroy();
        }
      }
      const info = await (await host.client(id, token)).checkFileInfo();
      assert.equal(info.status, 200, 'the host still serves');
      assert.equal(info.json.BaseFileName, 'Target.docx', 'nothing was renamed');
    });
  }

  it('a chunked body far over what is drained: the answer, then the connection ends; no hang', async () => {
    const up = await keepSending(
      host.url,
      `/wopi/files/${id}?access_token=${encodeURIComponent(token)}`,
      { 'X-WOPI-Override': 'PUT_USER_INFO' },
      { total: 256 * MiB, chunked: true },
    );
    try {
      await waitUntil(() => up.ended || up.error !== undefined || up.socket.destroyed, 20_000);
      assert.ok(up.ended || up.error !== undefined, 'Quire ended the connection rather than read on for ever');
      assert.deepEqual(statusLines(up.received), [413], up.received.slice(0, 300));
      assert.ok(up.answeredAfterMs < 3000, `answered after ${up.answeredAfterMs} ms`);
    } finally {
      up.socket.destroy();
    }
    assert.equal((await fetch(`${host.url}/healthz`)).status, 200);
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return;
    await sleep(20);
  }
}
