import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One request a receiver got, as it arrived: the headers and the raw body, and how it was answered. */
export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the body's fields directly and assert on them
  body: any;
  /** The status it was answered with, or 'dropped' / 'hung'. */
  answer: number | 'dropped' | 'hung';
  at: number;
}

/** How the receiver answers the next request: a status (with headers), cutting the connection, or never answering. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'drop' | 'hang';

/**
 * A real webhook receiver on 127.0.0.1: records every request, and answers each with the next of the scripted
 * answers (then with `otherwise`, 200 unless changed). `delivered` holds the requests it acknowledged with a 2xx.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  private readonly script: Answer[] = [];
  otherwise: Answer = 200;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => receiver?.answer(req.headers, Buffer.concat(chunks), res));
    });
    server.on('connection', (socket) => {
      receiver?.sockets.add(socket);
      socket.once('close', () => receiver?.sockets.delete(socket));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('no address');
    receiver = new WebhookReceiver(server, address.port);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** The requests answered with a 2xx. */
  get delivered(): ReceivedDelivery[] {
    return this.received.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300);
  }

  /** Answers the next requests with these, in order. */
  answerWith(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  private answer(headers: IncomingHttpHeaders, raw: Buffer, res: ServerResponse): void {
    const next = this.script.shift() ?? this.otherwise;
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined;
    }
    const record: ReceivedDelivery = { headers, raw, body, answer: 200, at: Date.now() };
    this.received.push(record);
    if (next === 'drop') {
      record.answer = 'dropped';
      res.socket?.destroy();
    } else if (next === 'hang') {
      record.answer = 'hung';
      this.hung.add(res);
    } else {
      const { status, headers: extra = {} } = typeof next === 'number' ? { status: next } : next;
      record.answer = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...extra }).end(status < 300 ? 'ok' : `no: ${status}`);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close').catch(() => {});
  }
}
