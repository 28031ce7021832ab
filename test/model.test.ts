import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { loadSigningSecret } from '../src/auth/secret.ts';
import { ALL_PERMISSIONS, TokenService } from '../src/auth/tokens.ts';
import { systemClock } from '../src/core/clock.ts';
import { Quire } from '../src/quire.ts';
import {
  apiAs,
  type ReadResponse,
  readResponse,
  signIn,
  startHost,
  storageKinds,
  type TestHost,
} from './helpers/host.ts';
import { audit, commandArb, type Harness, initialArb, type RunReal, Stats, setupRun } from './helpers/model/driver.ts';
import type { RunModel } from './helpers/model/wopi-model.ts';
import { ServeProcess } from './helpers/process-helpers.ts';
import { closeHost } from './helpers/put-helpers.ts';

/**
 * A model-based test: three simulated editors, each with its own token and lock ids, send random WOPI sequences
 * (Lock, GetLock, RefreshLock, Unlock, UnlockAndRelock, PutFile with their lock, a wrong one, none or a malformed one,
 * with X-WOPI-Size right or wrong, Collabora's timestamp and autosave flag; GetFile with X-WOPI-MaxExpectedSize,
 * CheckFileInfo, RenameFile, PutRelativeFile) at two files on a real Quire over HTTP, one at a time or two racing.
 * A reference model (helpers/model/wopi-model.ts) predicts every status, the X-WOPI-Lock of every 409, the
 * X-WOPI-ItemVersion, the content, version and name after each step; the version history (SHA-256 of each, in order)
 * and the rescued saves are audited against it at the end of each run (helpers/model/driver.ts).
 *
 * In process (both storage kinds) the test also moves Quire's clock: locks expire after 30 minutes and a silent
 * editor's lock is released after 20. The last suite serves from a `quire serve` child (SQLite) and SIGKILLs it at
 * random points, between requests and while one is in flight, restarting it on the same data: nothing acknowledged
 * may be lost, and a request the kill cut off did all or nothing.
 *
 * QUIRE_MODEL_SEED fixes the seed (a constant by default, so CI runs the same sequences every time);
 * QUIRE_MODEL_RUNS the runs per storage kind in process (default 20); QUIRE_MODEL_KILL_RUNS the runs with kills
 * (default a seventh of that). A failure prints the seed, fast-check's path and the shrunk command list; replay it
 * with QUIRE_MODEL_SEED and QUIRE_MODEL_PATH (and QUIRE_MODEL_REPLAY for the commands' replayPath).
 */

const envNumber = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  assert.ok(Number.isSafeInteger(n) && n >= 0, `${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return n;
};

const SEED = envNumber('QUIRE_MODEL_SEED', 0x5eed_0001);
const RUNS = envNumber('QUIRE_MODEL_RUNS', 20);
const KILL_RUNS = envNumber('QUIRE_MODEL_KILL_RUNS', Math.max(1, Math.ceil(RUNS / 7)));
/**
 * How long fast-check may take, shrinking included, before it stops and fails (a run that hangs is a failure, not a
 * silent pass); generous per run so that raising the runs on a busy machine does not fail for time. Each test's own
 * timeout leaves room after it for the report.
 */
const IN_PROCESS_LIMIT_MS = Math.max(240_000, RUNS * 8_000);
const KILL_LIMIT_MS = Math.max(480_000, KILL_RUNS * 60_000);
const REPORT_MS = 120_000;
const PATH = process.env.QUIRE_MODEL_PATH || undefined;
const REPLAY = process.env.QUIRE_MODEL_REPLAY || undefined;

const PASSWORD = 'model based 1';
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** WOPI's lock expiry, and Quire's release of a silent editor's lock (its defaults, set here so the model knows). */
const LOCK_TTL_MS = 30 * MINUTE_MS;
const IDLE_RELEASE_MS = 20 * MINUTE_MS;

interface Plan {
  runs: number;
  maxCommands: number;
  /** How often a command is a race of two operations, and how often a kill (each in 15); 0 for none. */
  raceWeight: number;
  killWeight: number;
  /** How often a command moves the server's clock (in 15; in process only). */
  advanceWeight: number;
  maxKills: number;
  /** Every how many runs the final audit downloads every version's and rescued save's bytes (1: every run). */
  deepEvery: number;
  /** fast-check stops (and fails) after this long, shrinking included; below the test's own timeout. */
  timeLimitMs: number;
}

/** Runs the property: `plan.runs` runs of random commands against `harness`, each ending in a full audit. */
async function checkModel(t: TestContext, harness: Harness, plan: Plan): Promise<void> {
  t.diagnostic(
    `${harness.name}: seed=${SEED} runs=${plan.runs} maxCommands=${plan.maxCommands} maxKillsPerRun=${plan.maxKills}` +
      `${PATH ? ` path=${PATH}` : ''}`,
  );
  const started = performance.now();
  let runs = 0;
  const property = fc.asyncProperty(
    initialArb,
    fc.commands([commandArb(plan.raceWeight, plan.killWeight, plan.advanceWeight)], {
      maxCommands: plan.maxCommands,
      size: 'max',
      ...(REPLAY && { replayPath: REPLAY }),
    }),
    async (initial, commands) => {
      let run: { model: RunModel; real: RunReal } | undefined;
      await fc.asyncModelRun(async () => {
        run = await setupRun(harness, initial, plan.maxKills);
        return run;
      }, commands);
      assert.ok(run);
      const deep = ++runs % plan.deepEvery === 0;
      await audit(run.model, run.real, `at the end of the run (${run.model.step} steps)`, deep);
    },
  );
  try {
    await fc.assert(property, {
      seed: SEED,
      numRuns: plan.runs,
      ...(PATH && { path: PATH }),
      // shrinking a failure replays whole runs (restarts included): bounded, so the report comes before the test's
      // timeout; and a run that never ends is a failure, not a silent pass
      interruptAfterTimeLimit: plan.timeLimitMs,
      markInterruptAsFailure: true,
      includeErrorInReport: true,
    });
  } finally {
    const s = harness.stats;
    t.diagnostic(
      `${harness.name}: ${s.total('runs')} runs (shrinking included), ${s.total('steps')} steps ` +
        `in ${Math.round(performance.now() - started)} ms; ${s.summary()}`,
    );
  }
}

/** A `quire serve` child on one data dir (SQLite), killed and restarted by the runs; files come in by upload. */
class ProcessHarness implements Harness {
  readonly name = 'sqlite, quire serve with SIGKILLs';
  readonly stats = new Stats();
  private server: ServeProcess | undefined;
  private cookie = '';

  private constructor(
    readonly dataDir: string,
    readonly ownerId: string,
    private readonly tokens: TokenService,
  ) {}

  static async create(): Promise<ProcessHarness> {
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-model-'));
    // the signing key, the store and a user to read the history with, made before any server runs
    const quire = await Quire.create({ dataDir });
    let ownerId: string;
    try {
      assert.ok(quire.accounts, 'the SQLite store keeps users');
      ownerId = (await quire.accounts.create({ name: 'model-admin', password: PASSWORD, isAdmin: true })).id;
    } finally {
      await quire.close();
    }
    const harness = new ProcessHarness(
      dataDir,
      ownerId,
      new TokenService(await loadSigningSecret(dataDir, {}), systemClock),
    );
    await harness.restart();
    return harness;
  }

  url(): string {
    assert.ok(this.server, 'the server is started');
    return this.server.url;
  }

  async restart(): Promise<void> {
    try {
      this.server = await ServeProcess.start(this.dataDir);
    } catch {
      // the free port it picked may have been taken meanwhile by another test: once more, on another port
      this.server = await ServeProcess.start(this.dataDir);
    }
    if (this.cookie === '') this.cookie = await signInOver(this.server.url);
  }

  async kill(): Promise<void> {
    await this.server?.kill('SIGKILL');
  }

  async ensureRunning(): Promise<void> {
    if (!this.server?.running) await this.restart();
  }

  async addFile(name: string, bytes: Uint8Array): Promise<string> {
    const res = await readResponse(
      await fetch(`${this.url()}/api/files?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { Cookie: this.cookie, Accept: 'application/json', 'Content-Type': 'application/octet-stream' },
        body: bytes,
      }),
    );
    assert.equal(res.status, 201, `upload ${name}: ${res.text}`);
    assert.equal(res.json.name, name);
    return res.json.id;
  }

  async token(fileId: string, userId: string): Promise<string> {
    return (await this.tokens.mint({ fileId, userId, userName: userId, permissions: ALL_PERMISSIONS })).access_token;
  }

  async api(path: string): Promise<ReadResponse> {
    return readResponse(
      await fetch(`${this.url()}${path}`, { headers: { Cookie: this.cookie, Accept: 'application/json' } }),
    );
  }

  async close(): Promise<void> {
    await this.server?.kill('SIGKILL');
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

async function signInOver(url: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: 'model-admin', password: PASSWORD, next: '/' }).toString(),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  assert.equal(res.status, 303, 'sign-in succeeds');
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie, 'sign-in sets a session cookie');
  return cookie;
}

/** The three suites run side by side: most of their time is spent waiting on HTTP, disks and a child starting. */
describe('model-based WOPI test', { concurrency: true }, () => {
  for (const kind of storageKinds) {
    describe(`model-based WOPI test, in process [${kind.name}]`, () => {
      let host: TestHost;
      let harness: Harness;
      before(async () => {
        host = await startHost({
          storageKind: kind,
          lockTtlMs: LOCK_TTL_MS,
          lockIdleReleaseMs: IDLE_RELEASE_MS,
          // the test moves the clock by days over many runs; what retention forgets is not this test's business
          eventRetentionMs: 0,
          rescuedRetentionMs: 0,
          autosaveRetentionMs: 0,
        });
        let cookie = (await signIn(host, 'model-admin', { isAdmin: true })).cookie;
        harness = {
          name: kind.name,
          ownerId: 'model-owner',
          url: () => host.url,
          addFile: (name, bytes) => host.addFile(name, bytes, 'model-owner'),
          // valid however far the runs move the clock
          token: (fileId, userId) => host.token(fileId, { userId, userName: userId, ttlMs: 10 * 365 * DAY_MS }),
          async api(path) {
            let res = await apiAs(host, cookie)(path);
            if (res.status === 401) {
              // the sign-in ran out as the clock moved on
              cookie = (await signIn(host, 'model-admin')).cookie;
              res = await apiAs(host, cookie)(path);
            }
            return res;
          },
          clock: {
            now: () => host.clock.now(),
            async advance(ms) {
              host.clock.advance(ms);
              await host.quire.releaseIdleLocks();
            },
            ttlMs: LOCK_TTL_MS,
            idleMs: IDLE_RELEASE_MS,
          },
          stats: new Stats(),
        };
      });
      after(() => closeHost(host));

      it('every answer, version, lock and rescued save is what the model predicts', {
        timeout: IN_PROCESS_LIMIT_MS + REPORT_MS,
      }, async (t) => {
        await checkModel(t, harness, {
          runs: RUNS,
          maxCommands: 30,
          raceWeight: 2,
          killWeight: 0,
          advanceWeight: 2,
          maxKills: 0,
          deepEvery: 4,
          timeLimitMs: IN_PROCESS_LIMIT_MS,
        });
      });
    });
  }

  describe('model-based WOPI test, `quire serve` killed at random points [sqlite]', () => {
    let harness: ProcessHarness | undefined;
    before(async () => {
      harness = await ProcessHarness.create();
    });
    after(() => harness?.close());

    it('a kill loses no acknowledged save, lock or rescued save; a request it cut off did all or nothing', {
      timeout: KILL_LIMIT_MS + REPORT_MS,
    }, async (t) => {
      assert.ok(harness);
      await checkModel(t, harness, {
        runs: KILL_RUNS,
        maxCommands: 24,
        raceWeight: 1,
        killWeight: 2,
        advanceWeight: 0,
        maxKills: 2,
        deepEvery: 1,
        timeLimitMs: KILL_LIMIT_MS,
      });
      t.diagnostic(`restarts: ${harness.stats.total('kill:')}`);
    });
  });
});
