import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The checkout the tests run in; child processes start here, like `npx quire` would. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const QUIRE_BIN = join(REPO_ROOT, 'bin', 'quire.js');

/** Children still running, so a failing test cannot leave a server behind (each is ended by its own pid). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment without QUIRE_* settings, so a developer's shell does not change what the tests see. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('QUIRE_')) env[k] = v;
  // the sources as they are, never a build that may lag behind them
  return { ...env, QUIRE_FROM_SOURCE: '1', ...extra };
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown from a `waitFor` check to stop waiting at once (e.g. the process being waited on has exited). */
export class GiveUp extends Error {}

/** Polls `check` until it returns a truthy value; throws after `timeoutMs`, or at once on `GiveUp`. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(25);
  }
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/quire.js ARGS` to completion (killed after `timeoutMs`). */
export async function runQuire(
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [QUIRE_BIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  try {
    return await withTimeout(exited, timeoutMs, `quire ${args.join(' ')}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    live.delete(child);
  }
}

/** Runs a CLI command that must succeed and print exactly one JSON line; returns it parsed. */
export async function runQuireJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const result = await runQuire(args);
  if (result.code !== 0) {
    throw new Error(`quire ${args.join(' ')} exited ${result.code} (${result.signal}): ${result.stderr}`);
  }
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`expected one line, got ${JSON.stringify(result.stdout)}`);
  return JSON.parse(lines[0] as string) as T;
}

/** A `quire serve` child process. */
export class ServeProcess {
  private out = '';
  private err = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
    });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
      } else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get stdout(): string {
    return this.out;
  }
  get stderr(): string {
    return this.err;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Spawns `quire ARGS` as a long-running process without waiting for anything; `url` is what the caller expects;
   * `env` is added to the environment (the developer's QUIRE_* settings are not passed on).
   */
  static spawn(args: string[], url = '', env: Record<string, string> = {}): ServeProcess {
    const child = spawn(process.execPath, [QUIRE_BIN, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new ServeProcess(child, url);
  }

  /**
   * Starts `quire serve --data DIR --port PORT` (a free port unless given) and waits until /healthz answers.
   * `url` is http://127.0.0.1:PORT. `args` replaces the default `--log-level warn`.
   */
  static async start(
    dataDir: string,
    options: { port?: number; args?: string[]; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<ServeProcess> {
    const port = options.port ?? (await freePort());
    const args = ['serve', '--data', dataDir, '--port', String(port), ...(options.args ?? ['--log-level', 'warn'])];
    const server = ServeProcess.spawn(args, `http://127.0.0.1:${port}`, options.env);
    try {
      await waitFor(
        async () => {
          if (!server.running) throw new GiveUp('quire serve exited early');
          const res = await fetch(`${server.url}/healthz`);
          return res.status === 200;
        },
        options.timeoutMs ?? 30_000,
        `quire serve on port ${port}`,
      );
    } catch (err) {
      await server.kill();
      throw new Error(`${(err as Error).message}\n--- stdout\n${server.stdout}\n--- stderr\n${server.stderr}`);
    }
    return server;
  }

  /** Waits (bounded) until stdout matches `pattern`; returns the match. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const match = await waitFor(
      () => {
        const m = this.out.match(pattern);
        if (!m && !this.running) throw new GiveUp(`process exited; stdout: ${this.out}; stderr: ${this.err}`);
        return m;
      },
      timeoutMs,
      `output matching ${pattern}`,
    );
    return match as RegExpMatchArray;
  }

  /** Waits, bounded, until the process has exited (on its own, or on a signal sent earlier). */
  exit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return withTimeout(this.exited, timeoutMs, `quire serve (pid ${this.child.pid}) to exit`);
  }

  /** Sends `signal` (SIGKILL by default) and waits, bounded, until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    try {
      return await withTimeout(this.exited, 10_000, `quire serve (pid ${this.child.pid}) to exit on ${signal}`);
    } catch (err) {
      this.child.kill('SIGKILL');
      throw err;
    }
  }

  /** SIGTERM (a clean shutdown), then SIGKILL if it does not go. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    try {
      await this.kill('SIGTERM');
    } catch {
      await this.kill('SIGKILL');
    }
  }
}

/** Every path under `dir`, relative to it, sorted (directories end with "/"). */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const e of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        await walk(rel);
      } else out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

/** Unfinished uploads (temp files) in a data dir's blob store, with their sizes. */
export async function partFiles(dataDir: string): Promise<Map<string, number>> {
  const dir = join(dataDir, 'blobs', 'tmp');
  const out = new Map<string, number>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const size = await stat(join(dir, name)).then(
      (s) => s.size,
      () => -1,
    );
    if (size >= 0) out.set(name, size);
  }
  return out;
}

/** Waits until an upload that was not there before (`known`) has at least `bytes` on disk. */
export async function waitForNewPart(dataDir: string, known: Map<string, number>, bytes: number): Promise<void> {
  await waitFor(
    async () => [...(await partFiles(dataDir))].some(([name, size]) => !known.has(name) && size >= bytes),
    30_000,
    `the server to have stored ${bytes} bytes of the upload`,
  );
}
