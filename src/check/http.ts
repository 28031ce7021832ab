import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The check's only way to the host: one HTTP request at a time, each with its own deadline, every exchange kept
 * whole (what was sent, what came back) so that a failing rule can show it. Nothing here knows WOPI.
 */

/** A request as it was sent (the URL still holds the token: reports scrub it before printing). */
export interface SentRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A response read in full. Header names are lower case, as Node gives them. */
export interface Received {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Exchange {
  request: SentRequest;
  response: Received;
}

/** No HTTP answer at all: refused, reset, unresolvable, or nothing within the deadline. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly request: SentRequest,
    reason: string,
  ) {
    super(reason);
  }
}

/** Answers bigger than this are cut: the check reads small test files, and a host that streams forever must not hang it. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

function reasonOf(err: NodeJS.ErrnoException, url: URL): string {
  const where = url.host;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (is the host running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'ECONNRESET':
      return `${where} closed the connection without an answer`;
    default:
      return `${err.code ? `${err.code}: ` : ''}${err.message}`;
  }
}

/** Sends requests to one host, each given `timeoutMs` for the whole exchange; close() lets the process exit. */
export class HttpSender {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly timeoutMs: number) {}

  send(request: SentRequest): Promise<Exchange> {
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    // a POST says how long its body is, even when empty (some servers refuse a POST without a length)
    const headers =
      request.method === 'GET'
        ? request.headers
        : { ...request.headers, 'Content-Length': String(request.body.length) };
    return new Promise<Exchange>((resolve, reject) => {
      const fail = (reason: string) => reject(new TransportError(request, reason));
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: request.method,
        headers,
        agent: secure ? this.https : this.http,
      });
      const timer = setTimeout(() => {
        fail(`no complete answer within ${this.timeoutMs} ms`);
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(reasonOf(err, url));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            clearTimeout(timer);
            fail(`answer body larger than ${MAX_BODY_BYTES} bytes`);
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          fail(reasonOf(err, url));
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            request,
            response: {
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              headers: res.headers,
              body: Buffer.concat(chunks),
            },
          });
        });
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
