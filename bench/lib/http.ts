import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A small node:http client for what wrk cannot do: streamed bodies, and request sequences with checks. */

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      ...(init.agent && { agent: init.agent }),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A keep-alive agent for `sockets` concurrent clients. */
export const keepAlive = (sockets: number) => new Agent({ keepAlive: true, maxSockets: sockets });

/**
 * A body of `mib` MiB: a first MiB of its own (so no two bodies are the same bytes) and then one shared random MiB
 * repeated. Its SHA-256 is computed up front, so sending it costs the client no hashing.
 */
export class Body {
  readonly sha256: string;
  readonly size: number;

  constructor(
    readonly first: Buffer,
    readonly rest: Buffer,
    readonly mib: number,
  ) {
    const hash = createHash('sha256').update(first);
    for (let i = 1; i < mib; i++) hash.update(rest);
    this.sha256 = hash.digest('hex');
    this.size = first.length + (mib - 1) * rest.length;
  }

  /** The chunks in order (the same Buffer objects, never copied). */
  *chunks(): Generator<Buffer> {
    yield this.first;
    for (let i = 1; i < this.mib; i++) yield this.rest;
  }
}

/** Streams `body` as a POST and resolves with the reply once it has been read whole. */
export function postBody(url: string, headers: Record<string, string>, body: Body): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(body.size) } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const chunks = body.chunks();
    const pump = () => {
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** GETs `url`, hashing the body as it streams in (nothing is kept): status, size and SHA-256. */
export function getHashed(url: string): Promise<{ status: number; size: number; sha256: string }> {
  // an https URL: a FileUrl presigned for an S3 endpoint behind TLS
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    send(url, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        hash.update(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
