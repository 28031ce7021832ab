/**
 * When to try a delivery again, and when to stop. Retried: no answer (refused, reset, timed out), 408, 429 and 5xx;
 * anything else that is not a 2xx is the receiver saying no, and is not retried. The delay doubles from
 * `RETRY_BASE_MS` up to an hour, with jitter so receivers coming back are not hit by every sender at once; a
 * Retry-After the receiver sends (seconds or a date) is honoured up to that hour. A delivery stops being retried
 * `retryForMs` after it was queued, or after `MAX_ATTEMPTS`.
 */
export const RETRY_BASE_MS = 2_000;
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
export const MAX_ATTEMPTS = 30;

/** What a response status means for the delivery. */
export function verdictOf(status: number): 'delivered' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}

/** The wait before attempt `attempts + 1`: exponential, between half and all of it (jitter). */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_RETRY_DELAY_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** A Retry-After header's wait in ms (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - nowMs;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, ms));
}

/** When attempt `attempts + 1` is due, or null when the delivery has been tried long enough. */
export function nextAttemptAt(input: {
  attempts: number;
  queuedAt: number;
  now: number;
  retryForMs: number;
  retryAfterMs?: number | undefined;
  random?: () => number;
}): number | null {
  if (input.attempts >= MAX_ATTEMPTS) return null;
  const wait = input.retryAfterMs ?? backoffMs(input.attempts, input.random);
  const at = input.now + wait;
  return at - input.queuedAt > input.retryForMs ? null : at;
}
