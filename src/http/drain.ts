import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** What a drain found: the requests in flight when it began, how many the timeout cut, and how long it took. */
export interface DrainResult {
  inFlight: number;
  cut: number;
  ms: number;
}

/**
 * The requests an app is answering, kept so that a shutdown can let them finish (a PutFile's body above all) and
 * say how many it had to cut. Counted from the moment Fastify routes a request until its response is closed
 * (finished, or its connection gone), whether the app listens itself or is mounted in another server.
 */
export class RequestTracker {
  private readonly open = new Set<ServerResponse>();
  private draining = false;
  private settled: (() => void) | undefined;

  constructor(private readonly app: FastifyInstance) {
    // a callback hook: it runs on every request, and an async one costs a promise each time
    app.addHook('onRequest', (_request, reply, done) => {
      this.add(reply.raw);
      done();
    });
  }

  private add(res: ServerResponse): void {
    if (res.writableEnded) return;
    this.open.add(res);
    // once draining, every answer ends its connection: no keep-alive connection outlives the drain
    if (this.draining && !res.headersSent) res.shouldKeepAlive = false;
    res.once('close', () => {
      this.open.delete(res);
      if (!this.draining) return;
      // a connection whose answer went out before the drain set Connection: close is idle now: let it go
      this.app.server.closeIdleConnections();
      if (this.open.size === 0) this.settled?.();
    });
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.open.size;
  }

  /** True once `drain` began: /readyz answers 503 from then on. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Marks the app draining (the answers still to come say Connection: close), then waits until every request in
   * flight is answered or `timeoutMs` passes; what is left then is cut (its connection destroyed). Stopping the
   * listener is the caller's part (Fastify's close), started alongside.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    const started = performance.now();
    this.draining = true;
    const inFlight = this.open.size;
    for (const res of this.open) if (!res.headersSent) res.shouldKeepAlive = false;
    if (this.open.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.settled = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.settled = undefined;
    }
    const cut = this.open.size;
    for (const res of this.open) res.destroy();
    // whatever else is open on Quire's own server (idle, or still sending its headers) goes too
    this.app.server.closeAllConnections();
    return { inFlight, cut, ms: Math.round(performance.now() - started) };
  }
}
