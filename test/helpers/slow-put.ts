import { type ClientRequest, request } from 'node:http';

/**
 * A PutFile sent by hand over a connection of its own: the test decides when each part of the promised body
 * (Content-Length `length`) goes out, and what happens to the server meanwhile.
 */
export class SlowPut {
  readonly req: ClientRequest;
  /** The answer's status, or 0 when the connection ended without one. */
  readonly status: Promise<number>;
  /** The answer's X-WOPI-ItemVersion (undefined without an answer, or without the header). */
  readonly version: Promise<string | undefined>;

  constructor(url: string, length: number, lock: string, headers: Record<string, string> = {}) {
    this.req = request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'X-WOPI-Override': 'PUT',
        'X-WOPI-Lock': lock,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(length),
        ...headers,
      },
    });
    let version: (v: string | undefined) => void = () => {};
    this.version = new Promise((resolve) => {
      version = resolve;
    });
    this.status = new Promise<number>((resolve) => {
      const none = () => {
        version(undefined);
        resolve(0);
      };
      this.req.on('error', none);
      this.req.on('close', none);
      this.req.on('response', (res) => {
        version(res.headers['x-wopi-itemversion'] as string | undefined);
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
    });
  }

  /** Writes `data`, resolving once it is handed to the kernel. */
  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.req.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Writes the first `upTo` bytes of `data` in `chunk`-byte pieces, pausing `pauseMs` after each (a slow client). */
  async trickle(data: Buffer, chunk: number, pauseMs: number, upTo = data.length): Promise<number> {
    let sent = 0;
    while (sent < upTo && !this.req.destroyed) {
      await this.write(data.subarray(sent, Math.min(upTo, sent + chunk)));
      sent = Math.min(upTo, sent + chunk);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return sent;
  }
}
