import type { Clock } from '../core/clock.ts';
import type { ClaimedDelivery, DeliveryOutcome, WebhookStore } from '../storage/types.ts';
import { signedRequest, Undeliverable } from './payload.ts';
import { nextAttemptAt, retryAfterMs, verdictOf } from './retry.ts';

export interface WebhookSettings {
  /** How long one attempt may take: connecting, sending, and the receiver's whole answer (ms). Default 10 s. */
  timeoutMs?: number;
  /** How long a delivery is retried after it was queued before it is marked failed (ms). Default 24 hours. */
  retryForMs?: number;
  /** How often due deliveries are looked for (ms). Default 1 s. */
  pollMs?: number;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_RETRY_FOR_MS = 24 * 60 * 60 * 1000;
const DEFAULT_POLL_MS = 1000;
/** Deliveries sent at once by one instance. */
const BATCH = 10;
/** How much of a refusing receiver's answer is kept in the delivery log. */
const SNIPPET = 200;

/** Where the worker says what it did: pino's shape, so Quire's log fits. */
export interface WorkerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Sends what the outbox holds. Every pass claims due deliveries (the store makes a claim exclusive across instances
 * and leases it: a delivery whose sender died is due again when the lease ends, so it is sent at least once), POSTs
 * each, signed, and records the outcome: delivered on a 2xx; retried later (backoff, Retry-After) on no answer, 408,
 * 429 or a 5xx; failed at once on any other answer, and when retries run out.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<number> | undefined;
  private stopped = true;
  /** Once stopped for good (Quire closing), a late start does nothing. */
  private ended = false;
  private abort = new AbortController();
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly store: WebhookStore,
    private readonly clock: Clock,
    private readonly log: WorkerLog,
    settings: WebhookSettings = {},
  ) {
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.retryForMs = settings.retryForMs ?? DEFAULT_WEBHOOK_RETRY_FOR_MS;
    this.pollMs = settings.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Longer than any attempt can take, so a live sender is never overtaken by another instance. */
  private get leaseMs(): number {
    return 2 * this.timeoutMs + 5000;
  }

  start(): void {
    if (!this.stopped || this.ended) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.schedule(0);
  }

  /** Looks for due deliveries now rather than at the next poll (after a ping or a redelivery, say). */
  nudge(): void {
    if (this.stopped || this.pass) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Stops polling; attempts in flight are cut short and made due again, so the next start sends them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ended = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.pass;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.loop(), ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    this.timer = undefined;
    let sent = 0;
    try {
      sent = await this.runOnce();
    } catch (err) {
      this.log.warn({ err }, 'webhook deliveries could not be claimed; trying again');
    }
    if (!this.stopped && !this.timer) this.schedule(sent === BATCH ? 0 : this.pollMs);
  }

  /** One pass: claims what is due and sends it; answers how many deliveries it attempted. */
  runOnce(): Promise<number> {
    this.pass ??= (async () => {
      try {
        const now = this.clock.now();
        const claimed = await this.store.claim(now, now + this.leaseMs, BATCH);
        await Promise.all(claimed.map((d) => this.deliver(d)));
        return claimed.length;
      } finally {
        this.pass = undefined;
      }
    })();
    return this.pass;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const outcome = await this.attempt(delivery);
    const settled = await this.store.settle(delivery.id, delivery.attempts, outcome, this.clock.now()).catch((err) => {
      // the lease runs out and the delivery is sent again: at least once still holds
      this.log.warn({ err, delivery: delivery.id }, 'could not record a webhook delivery attempt');
      return false;
    });
    if (!settled || outcome.state === 'delivered') return;
    const fields = {
      webhook: delivery.webhookId,
      delivery: delivery.id,
      url: delivery.url,
      attempt: delivery.attempts,
      status: outcome.status,
      reason: outcome.error,
    };
    if (outcome.state === 'failed') this.log.warn(fields, 'webhook delivery failed for good');
    else
      this.log.info(
        { ...fields, nextAttemptAt: new Date(outcome.nextAttemptAt).toISOString() },
        'webhook delivery will be retried',
      );
  }

  /** Sends once; never throws. */
  private async attempt(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    let request: { body: string; headers: Record<string, string> };
    try {
      request = signedRequest(delivery, this.clock.now());
    } catch (err) {
      if (err instanceof Undeliverable) return { state: 'failed', status: null, error: err.message };
      throw err;
    }
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      const status = response.status;
      const verdict = verdictOf(status);
      if (verdict === 'delivered') {
        await response.body?.cancel().catch(() => {});
        return { state: 'delivered', status };
      }
      const answer = await snippetOf(response);
      if (verdict === 'refused') {
        const why =
          status >= 300 && status < 400
            ? 'redirects are not followed: register the final URL'
            : 'the receiver refused it (a 4xx other than 408 or 429 is not retried)';
        return { state: 'failed', status, error: `HTTP ${status}: ${why}${answer}` };
      }
      return this.retry(
        delivery,
        status,
        `HTTP ${status}${answer}`,
        retryAfterMs(response.headers.get('retry-after'), this.clock.now()),
      );
    } catch (err) {
      return this.retry(delivery, null, this.noAnswer(err));
    }
  }

  private retry(delivery: ClaimedDelivery, status: number | null, error: string, after?: number): DeliveryOutcome {
    if (this.stopped) {
      // cut short by a shutdown: due again at once, for the next start (or another instance)
      return {
        state: 'pending',
        status,
        error: 'Quire stopped while sending; it will be sent again',
        nextAttemptAt: this.clock.now(),
      };
    }
    const now = this.clock.now();
    const next = nextAttemptAt({
      attempts: delivery.attempts,
      queuedAt: delivery.queuedAt,
      now,
      retryForMs: this.retryForMs,
      retryAfterMs: after,
    });
    if (next === null)
      return { state: 'failed', status, error: `${error}; gave up after ${delivery.attempts} attempts` };
    return { state: 'pending', status, error, nextAttemptAt: next };
  }

  private noAnswer(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `no answer within ${this.timeoutMs / 1000} s`;
    if (e.name === 'AbortError') return 'Quire stopped while sending';
    const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
    return `could not reach the receiver: ${cause}`;
  }
}

/** The start of a receiver's answer, for the log: at most a few KiB are read, the rest is dropped. */
async function snippetOf(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 4096) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // what was read is enough
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, SNIPPET)}` : '';
}
