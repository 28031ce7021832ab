import { LRUCache } from 'lru-cache';

/**
 * Limits on password guessing at the sign-in form: failed sign-ins are counted per user name (compared without case)
 * and per client address over a sliding window, and once either count reaches its limit, POST /login answers 429
 * without checking the password until the oldest failure in the window has aged out.
 *
 * The counts are kept in this process's memory: they start empty when Quire starts, and behind a load balancer each
 * instance counts only the attempts it sees (so N instances allow up to N times the limit, and a client that is
 * refused by one instance may be let in by another until that one's count is reached too). The client address is the
 * one the connection comes from: behind a reverse proxy every client has the proxy's address, so there the address
 * limit counts everyone's failures together; raise it, or turn it off (0) and rely on the per-name limit.
 */

export interface WindowLimit {
  /** How many failures the window allows; 0 turns this limit off. */
  max: number;
  windowMs: number;
}

export interface SignInLimits {
  /** Failed sign-ins per user name (any case). Default: 10 per 15 minutes. */
  perName?: WindowLimit;
  /** Failed sign-ins per client address, whatever names they try. Default: 50 per 15 minutes. */
  perAddress?: WindowLimit;
}

const MINUTE = 60_000;
export const DEFAULT_SIGN_IN_LIMITS: Required<SignInLimits> = {
  perName: { max: 10, windowMs: 15 * MINUTE },
  perAddress: { max: 50, windowMs: 15 * MINUTE },
};

/** How many names (and, separately, addresses) are remembered at most; past that, the least recently seen go. */
const MAX_KEYS = 10_000;

/**
 * Failures per key in a sliding window: the times of the last `max` failures, no more. Memory is bounded: at most
 * `maxKeys` keys (the least recently used are forgotten first) of at most `max` numbers each.
 */
class SlidingWindow {
  private readonly failures: LRUCache<string, number[]>;

  constructor(
    private readonly limit: WindowLimit,
    maxKeys: number,
  ) {
    this.failures = new LRUCache({ max: maxKeys });
  }

  /** The failures of `key` still in the window at `now` (forgetting the key when none are). */
  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const kept = times.filter((t) => t > now - this.limit.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    else if (kept.length !== times.length) this.failures.set(key, kept);
    return kept;
  }

  /** Milliseconds until `key` may try again, or 0 when it may now. */
  retryAfterMs(key: string, now: number): number {
    if (this.limit.max <= 0) return 0;
    const times = this.recent(key, now);
    if (times.length < this.limit.max) return 0;
    // the oldest failure that keeps the count at the limit has to leave the window
    const oldest = times[times.length - this.limit.max] as number;
    return Math.max(1, oldest + this.limit.windowMs - now);
  }

  fail(key: string, now: number): void {
    if (this.limit.max <= 0) return;
    const times = this.recent(key, now);
    this.failures.set(key, [...times, now].slice(-this.limit.max));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/** What the sign-in form asks before checking a password, and tells after. Per process: see the top of this file. */
export class SignInLimiter {
  private readonly names: SlidingWindow;
  private readonly addresses: SlidingWindow;

  constructor(
    private readonly now: () => number,
    limits: SignInLimits = {},
    maxKeys = MAX_KEYS,
  ) {
    this.names = new SlidingWindow(limits.perName ?? DEFAULT_SIGN_IN_LIMITS.perName, maxKeys);
    this.addresses = new SlidingWindow(limits.perAddress ?? DEFAULT_SIGN_IN_LIMITS.perAddress, maxKeys);
  }

  /**
   * Milliseconds until this name may be tried from this address again (the longer of the two waits), or 0 when it
   * may be tried now. `nameKey` is the name as accounts compare it (`userNameKey`).
   */
  retryAfterMs(nameKey: string, address: string): number {
    const now = this.now();
    return Math.max(this.names.retryAfterMs(nameKey, now), this.addresses.retryAfterMs(address, now));
  }

  /** A wrong password (or an unknown name): counts against both the name and the address. */
  failed(nameKey: string, address: string): void {
    const now = this.now();
    this.names.fail(nameKey, now);
    this.addresses.fail(address, now);
  }

  /** A successful sign-in clears the name's failures; the address keeps its count (one account must not reset it). */
  succeeded(nameKey: string): void {
    this.names.forget(nameKey);
  }
}

/** "Too many attempts. Try again in 3 minutes." for a wait of `ms`, rounded up to whole minutes. */
export function tooManyAttemptsMessage(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / MINUTE));
  return `Too many attempts. Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
}
