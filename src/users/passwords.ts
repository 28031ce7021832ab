import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as argon2 from 'argon2';

/** argon2id cost parameters: memory in KiB, passes, lanes. */
export interface PasswordHashParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane): strong, yet cheap enough in memory that a burst
 * of sign-in attempts cannot exhaust a small server. The parameters travel inside each hash, so changing them
 * later keeps old hashes verifiable (and they are rehashed at their owner's next sign-in).
 */
export const DEFAULT_HASH_PARAMS: PasswordHashParams = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Password hashing and verification with argon2id, a bounded number at a time. */
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly params: PasswordHashParams = DEFAULT_HASH_PARAMS,
    // Each hash holds `memoryCost` KiB; queueing beyond one per core adds latency, not throughput.
    private readonly maxConcurrent = availableParallelism(),
  ) {}

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so a newcomer cannot jump the queue.
      if (next) next();
      else this.running--;
    }
  }

  hash(password: string): Promise<string> {
    return this.limited(() => argon2.hash(password, { type: argon2.argon2id, ...this.params }));
  }

  /** True when `password` is the one `hash` was made from; false for a wrong password or an unreadable hash. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.limited(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });
  }

  /** True when `hash` was made with other parameters (or another argon2 variant) than this hasher's. */
  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(hash, this.params);
    } catch {
      return true;
    }
  }

  /** Makes the stand-in hash ahead of time, so even the first unknown name costs one verification, not two. */
  prepareDummyHash(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url')).catch((err: unknown) => {
      this.dummyHash = undefined; // try again next time rather than fail forever
      throw err;
    });
    return this.dummyHash;
  }

  /**
   * Spends the time a real verification would and answers false: used when there is no hash to check against
   * (unknown name, password-less account), so response time does not tell which names exist.
   */
  async verifyAgainstNothing(password: string): Promise<false> {
    await this.verify(await this.prepareDummyHash(), password);
    return false;
  }
}

/** The hasher stores use unless given one: one per process, so its concurrency bound holds for the process. */
export const defaultPasswordHasher = new PasswordHasher();
