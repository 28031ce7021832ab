import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter, tooManyAttemptsMessage } from '../src/web/rate-limit.ts';
import { readResponse, startHost, type TestHost } from './helpers/host.ts';

/**
 * Password guessing at POST /login: failures are counted per user name (any case) and per client address; past a
 * limit the form answers 429 with Retry-After, without checking the password, until the window has moved on.
 */

const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;

/** POSTs the sign-in form; the response read in full. */
async function attempt(host: TestHost, name: string, password: string) {
  return readResponse(
    await fetch(`${host.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, password, next: '/' }).toString(),
      redirect: 'manual',
    }),
  );
}

describe('sign-in rate limiting, over HTTP', () => {
  const hosts: TestHost[] = [];
  after(async () => {
    for (const host of hosts) await host.close();
  });
  /** A fresh host (fresh counts) with these users. */
  async function hostWith(names: string[], options: Parameters<typeof startHost>[0] = {}): Promise<TestHost> {
    const host = await startHost(options);
    hosts.push(host);
    for (const name of names) await host.quire.accounts?.create({ name, password: PASSWORD });
    return host;
  }

  it('after 10 failures for a name, answers 429 with Retry-After and says when to try again, even to the right password', async () => {
    const host = await hostWith(['ann', 'bob']);
    for (let i = 1; i <= 10; i++) {
      const res = await attempt(host, i % 2 ? 'ann' : 'ANN', `wrong password ${i}`);
      assert.equal(res.status, 401, `failure ${i}`);
    }
    const limited = await attempt(host, 'ann', PASSWORD);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), String(15 * 60));
    assert.deepEqual(limited.headers.getSetCookie(), [], 'not signed in');
    assert.match(limited.text, /role="alert">Too many attempts\. Try again in 15 minutes\.</);
    assert.match(limited.text, /value="ann"/, 'the name stays in the form');
    assert.match(limited.headers.get('content-type') ?? '', /^text\/html/);

    // another name, from the same address, is still let through
    assert.equal((await attempt(host, 'bob', 'wrong password')).status, 401);
    assert.equal((await attempt(host, 'bob', PASSWORD)).status, 303);

    // as time passes the wait shrinks; attempts while refused do not lengthen it
    host.clock.advance(10 * MINUTE);
    const later = await attempt(host, 'Ann', 'wrong again');
    assert.equal(later.status, 429);
    assert.equal(later.headers.get('retry-after'), String(5 * 60));
    assert.match(later.text, /Try again in 5 minutes\./);
    host.clock.advance(5 * MINUTE - 30_000);
    const soon = await attempt(host, 'ann', PASSWORD);
    assert.equal(soon.headers.get('retry-after'), '30');
    assert.match(soon.text, /Try again in 1 minute\./);

    // the window has moved on: the right password works again
    host.clock.advance(30_000);
    assert.equal((await attempt(host, 'ann', PASSWORD)).status, 303);
  });

  it('a successful sign-in clears the name’s failures', async () => {
    const host = await hostWith(['cy']);
    for (let i = 0; i < 9; i++) assert.equal((await attempt(host, 'cy', 'wrong password')).status, 401);
    assert.equal((await attempt(host, 'cy', PASSWORD)).status, 303);
    for (let i = 0; i < 10; i++) assert.equal((await attempt(host, 'cy', 'wrong password')).status, 401, `${i}`);
    assert.equal((await attempt(host, 'cy', PASSWORD)).status, 429);
  });

  it('unknown names are counted like known ones, so the answer tells nothing about which exist', async () => {
    const host = await hostWith([]);
    for (let i = 0; i < 10; i++) assert.equal((await attempt(host, 'nobody', 'wrong password')).status, 401);
    assert.equal((await attempt(host, 'nobody', 'wrong password')).status, 429);
  });

  it('limits failures per address across names; the limits are options', async () => {
    const host = await hostWith(['dee'], {
      signInLimits: { perName: { max: 3, windowMs: 5 * MINUTE }, perAddress: { max: 5, windowMs: 10 * MINUTE } },
    });
    for (const name of ['u1', 'u2', 'u3', 'u4']) assert.equal((await attempt(host, name, 'guess')).status, 401);
    host.clock.advance(4 * MINUTE);
    assert.equal((await attempt(host, 'u5', 'guess')).status, 401);
    // five failures from this address: every name is refused now, the right password too
    const limited = await attempt(host, 'dee', PASSWORD);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), String(6 * 60), 'until the oldest failure leaves the window');
    assert.match(limited.text, /Try again in 6 minutes\./);
    host.clock.advance(6 * MINUTE);
    // the first four have aged out; the fifth is still counted
    assert.equal((await attempt(host, 'dee', PASSWORD)).status, 303);

    // the per-name option applies too: 3 failures
    for (let i = 0; i < 3; i++) assert.equal((await attempt(host, 'dee', 'wrong password')).status, 401);
    const byName = await attempt(host, 'dee', PASSWORD);
    assert.equal(byName.status, 429);
    assert.equal(byName.headers.get('retry-after'), String(5 * 60));
  });

  it('a limit of 0 is off', async () => {
    const host = await hostWith(['eve'], { signInLimits: { perName: { max: 0, windowMs: MINUTE } } });
    for (let i = 0; i < 12; i++) assert.equal((await attempt(host, 'eve', 'wrong password')).status, 401);
    assert.equal((await attempt(host, 'eve', PASSWORD)).status, 303);
  });
});

describe('SignInLimiter', () => {
  it('defaults to 10 failures per name and 50 per address, per 15 minutes', () => {
    assert.deepEqual(DEFAULT_SIGN_IN_LIMITS, {
      perName: { max: 10, windowMs: 15 * MINUTE },
      perAddress: { max: 50, windowMs: 15 * MINUTE },
    });
    let now = 0;
    const limiter = new SignInLimiter(() => now);
    for (let i = 0; i < 49; i++) limiter.failed(`name-${i}`, '192.0.2.1');
    assert.equal(limiter.retryAfterMs('fresh', '192.0.2.1'), 0);
    limiter.failed('name-49', '192.0.2.1');
    assert.equal(limiter.retryAfterMs('fresh', '192.0.2.1'), 15 * MINUTE);
    assert.equal(limiter.retryAfterMs('fresh', '192.0.2.2'), 0, 'another address is not affected');
    now = 15 * MINUTE;
    assert.equal(limiter.retryAfterMs('fresh', '192.0.2.1'), 0);
  });

  it('keeps a sliding window: the wait ends when the oldest failure that counts leaves it', () => {
    let now = 0;
    const limiter = new SignInLimiter(() => now, { perName: { max: 3, windowMs: 10 * MINUTE } });
    for (const at of [0, 2, 4]) {
      now = at * MINUTE;
      limiter.failed('ann', `198.51.100.${at}`);
    }
    assert.equal(limiter.retryAfterMs('ann', '203.0.113.9'), 6 * MINUTE);
    now = 10 * MINUTE;
    assert.equal(limiter.retryAfterMs('ann', '203.0.113.9'), 0, 'the failure at 0 has left');
    limiter.failed('ann', '203.0.113.9');
    assert.equal(limiter.retryAfterMs('ann', '203.0.113.9'), 2 * MINUTE, 'now the one at 2 minutes is the oldest');
    limiter.succeeded('ann');
    assert.equal(limiter.retryAfterMs('ann', '203.0.113.9'), 0);
  });

  it('remembers a bounded number of names, forgetting the least recently seen', () => {
    const limiter = new SignInLimiter(() => 0, { perName: { max: 1, windowMs: MINUTE } }, 3);
    for (const name of ['a', 'b', 'c']) limiter.failed(name, `addr-${name}`);
    assert.ok(limiter.retryAfterMs('a', 'x') > 0);
    limiter.failed('d', 'addr-d');
    assert.equal(limiter.retryAfterMs('b', 'x'), 0, 'b was the least recently seen');
    assert.ok(limiter.retryAfterMs('a', 'x') > 0);
    assert.ok(limiter.retryAfterMs('d', 'x') > 0);
  });

  it('says the wait in whole minutes, rounded up', () => {
    assert.equal(tooManyAttemptsMessage(1), 'Too many attempts. Try again in 1 minute.');
    assert.equal(tooManyAttemptsMessage(MINUTE), 'Too many attempts. Try again in 1 minute.');
    assert.equal(tooManyAttemptsMessage(MINUTE + 1), 'Too many attempts. Try again in 2 minutes.');
    assert.equal(tooManyAttemptsMessage(15 * MINUTE), 'Too many attempts. Try again in 15 minutes.');
  });
});
