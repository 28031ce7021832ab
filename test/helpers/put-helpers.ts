import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { TestHost, WopiClient } from './host.ts';

/** What a file looks like from outside: content, CheckFileInfo's version fields, and the catalog's history. */
export interface FileSnapshot {
  content: Buffer;
  version: string;
  lastModifiedTime: string;
  size: number;
  sha256: string;
  versionCount: number;
}

export async function snapshot(host: TestHost, c: WopiClient): Promise<FileSnapshot> {
  const info = await c.checkFileInfo();
  assert.equal(info.status, 200, `CheckFileInfo: ${info.text}`);
  return {
    content: await c.content(),
    version: info.json.Version,
    lastModifiedTime: info.json.LastModifiedTime,
    size: info.json.Size,
    sha256: info.json.SHA256,
    versionCount: (await host.quire.host.storage.catalog.listVersions(c.fileId)).length,
  };
}

/** Asserts that nothing about the file changed since `before` (GetFile bytes, Version, LastModifiedTime, history). */
export async function assertUnchanged(host: TestHost, c: WopiClient, before: FileSnapshot): Promise<void> {
  const now = await snapshot(host, c);
  assert.equal(now.content.toString('hex'), before.content.toString('hex'), 'content changed');
  assert.deepEqual(now, before);
}

/** Ids of every live file in the catalog, sorted. */
export async function fileIds(host: TestHost): Promise<string[]> {
  return (await host.quire.host.storage.catalog.listFiles()).map((f) => f.id).sort();
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RawPostOptions {
  /** No Content-Length: Transfer-Encoding: chunked, so the server cannot know the size before reading. */
  chunked: boolean;
  /** Pause between chunks. */
  pauseMs?: number;
  /**
   * Once this many body bytes are sent (0: right after the headers), wait up to `answerTimeoutMs` for the server
   * to answer before sending more. A server that refuses a body answers before it has all of it and then closes
   * the connection; writing on meanwhile would race that close (EPIPE / reset instead of the answer).
   */
  awaitAnswerAfterBytes?: number;
  answerTimeoutMs?: number;
}

/**
 * POSTs `chunks` with node:http, one write per chunk. Stops writing as soon as the server answers and then closes
 * the connection, as a client does after an early refusal.
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: Buffer[],
  opts: RawPostOptions,
): Promise<RawResponse> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const allHeaders: Record<string, string> = opts.chunked
    ? { ...headers, 'Transfer-Encoding': 'chunked' }
    : { ...headers, 'Content-Length': String(total) };
  return new Promise<RawResponse>((resolve, reject) => {
    let done = false;
    let markAnswered: () => void = () => {};
    const answered = new Promise<void>((r) => {
      markAnswered = r;
    });
    let isAnswered = false;
    // agent: false: a connection of its own, never pooled for keep-alive.
    const req = request(url, { method: 'POST', headers: allHeaders, agent: false });
    req.on('response', (res) => {
      isAnswered = true;
      markAnswered();
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') });
        req.destroy();
      });
      res.on('error', (err) => {
        if (!done) reject(err);
      });
    });
    req.on('error', (err) => {
      // Once the answer is in, a reset of the rest of the upload is expected and harmless.
      if (!isAnswered) reject(err);
    });
    const waitForAnswer = (ms: number) => Promise.race([answered, delay(ms)]);
    const threshold = opts.awaitAnswerAfterBytes;
    void (async () => {
      req.flushHeaders();
      let sent = 0;
      for (const chunk of chunks) {
        if (threshold !== undefined && sent >= threshold) await waitForAnswer(opts.answerTimeoutMs ?? 2000);
        if (isAnswered || req.destroyed) return;
        await new Promise<void>((r) => req.write(chunk, () => r()));
        sent += chunk.length;
        if (opts.pauseMs) await delay(opts.pauseMs);
      }
      if (threshold !== undefined && sent >= threshold) await waitForAnswer(opts.answerTimeoutMs ?? 2000);
      if (!isAnswered && !req.destroyed) req.end();
    })().catch(reject);
  });
}

/** Splits `buf` into pieces of `size` bytes. */
export function pieces(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** The file id a PutRelativeFile Url points at (WOPISrc …/wopi/files/{id}?access_token=…). */
export function fileIdOfUrl(url: string): string {
  const parsed = new URL(url);
  const m = /^\/wopi\/files\/([^/]+)$/.exec(parsed.pathname);
  assert.ok(m, `not a WOPISrc: ${url}`);
  return decodeURIComponent(m[1] as string);
}

/**
 * Closes a test host without waiting on keep-alive connections: a response the client has fully read may not be
 * finished on the server side yet when the suite ends, and such a connection then stays open until Fastify's
 * keep-alive timeout (72 s) because it was not idle when close() swept idle connections.
 */
export async function closeHost(host: TestHost | undefined): Promise<void> {
  if (!host) return;
  host.quire.app.server.closeAllConnections();
  await host.close();
}
