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

  it('retention settings take a duration, or 0 / forever to keep everything', () => {
    assert.equal(serveSettings(['--event-retention', '30d'], {}).options.eventRetentionMs, 30 * DAY);
    assert.equal(serveSettings(['--rescued-retention', 'forever'], {}).options.rescuedRetentionMs, 0);
    assert.equal(serveSettings([], { QUIRE_EVENT_RETENTION: '0' }).options.eventRetentionMs, 0);
  });
});
