import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serveSettings } from '../src/cli/options.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('quire serve: settings that can be switched off', () => {
  it('--lock-idle-release takes a duration, or off / 0; the flag wins over QUIRE_LOCK_IDLE_RELEASE', () => {
    assert.equal(serveSettings(['--lock-idle-release', '15m'], {}).options.lockIdleReleaseMs, 15 * MINUTE);
    assert.equal(serveSettings(['--lock-idle-release', 'off'], {}).options.lockIdleReleaseMs, 0);
    assert.equal(serveSettings(['--lock-idle-release', '0'], {}).options.lockIdleReleaseMs, 0);
    assert.equal(serveSettings([], { QUIRE_LOCK_IDLE_RELEASE: '25m' }).options.lockIdleReleaseMs, 25 * MINUTE);
    assert.equal(
      serveSettings(['--lock-idle-release', '10m'], { QUIRE_LOCK_IDLE_RELEASE: 'off' }).options.lockIdleReleaseMs,
      10 * MINUTE,
    );
    assert.equal('lockIdleReleaseMs' in serveSettings([], {}).options, false, 'unset: the default applies');
    assert.throws(() => serveSettings(['--lock-idle-release', 'soon'], {}), /--lock-idle-release/);
  });

  it('--drain-timeout takes a duration (0: cut at once), 30 s by default; the flag wins over QUIRE_DRAIN_TIMEOUT', () => {
    assert.equal(serveSettings([], {}).drainTimeoutMs, 30_000);
    assert.equal(serveSettings(['--drain-timeout', '1500ms'], {}).drainTimeoutMs, 1500);
    assert.equal(serveSettings(['--drain-timeout', '0'], {}).drainTimeoutMs, 0);
    assert.equal(serveSettings([], { QUIRE_DRAIN_TIMEOUT: '2m' }).drainTimeoutMs, 2 * MINUTE);
    assert.equal(serveSettings(['--drain-timeout', '45s'], { QUIRE_DRAIN_TIMEOUT: '2m' }).drainTimeoutMs, 45_000);
    assert.throws(() => serveSettings(['--drain-timeout', 'a while'], {}), /--drain-timeout/);
  });

  it('retention settings take a duration, or 0 / forever to keep everything', () => {
    assert.equal(serveSettings(['--event-retention', '30d'], {}).options.eventRetentionMs, 30 * DAY);
    assert.equal(serveSettings(['--rescued-retention', 'forever'], {}).options.rescuedRetentionMs, 0);
    assert.equal(serveSettings([], { QUIRE_EVENT_RETENTION: '0' }).options.eventRetentionMs, 0);
  });

  it('sign-in limits take failures per window, or off; the flags win over the environment', () => {
    assert.deepEqual(serveSettings(['--sign-in-limit', '5/10m'], {}).options.signInLimits, {
      perName: { max: 5, windowMs: 10 * MINUTE },
    });
    assert.deepEqual(
      serveSettings(['--sign-in-address-limit', 'off'], { QUIRE_SIGN_IN_LIMIT: '3/1h' }).options.signInLimits,
      { perName: { max: 3, windowMs: 60 * MINUTE }, perAddress: { max: 0, windowMs: MINUTE } },
    );
    assert.deepEqual(
      serveSettings(['--sign-in-limit', '20 / 15m'], { QUIRE_SIGN_IN_LIMIT: '3/1h' }).options.signInLimits,
      { perName: { max: 20, windowMs: 15 * MINUTE } },
    );
    assert.equal('signInLimits' in serveSettings([], {}).options, false, 'unset: the defaults apply');
    for (const bad of ['10', 'ten/15m', '10/soon', '10/0', '-1/15m']) {
      assert.throws(() => serveSettings(['--sign-in-limit', bad], {}), /--sign-in-limit/, bad);
    }
  });
});
