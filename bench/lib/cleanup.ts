import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything the benchmarks start or create is registered here: child processes (servers, wrk) and cleanup
 * steps (temp dirs, PostgreSQL schemas). A Scope undoes its own steps when its work ends, however it ends; whatever
 * is still registered when the bench process is interrupted or exits is undone then.
 */

const children = new Set<ChildProcess>();

/** Registers a child process so that it is killed if the bench ends before it does. */
export function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

type Step = () => unknown | Promise<unknown>;
const open = new Set<Scope>();
let stopping = false;

export class Scope {
  private readonly steps: Step[] = [];

  constructor() {
    if (stopping) throw new Error('the bench is stopping');
    open.add(this);
  }

  /** Runs `step` when the scope closes (last registered, first run). */
  defer(step: Step): void {
    // registered after the scope closed (work still running when interrupted): undo it right away
    if (this.closing)
      void Promise.resolve()
        .then(step)
        .catch(() => {});
    else this.steps.push(step);
  }

  /** A fresh temp dir, removed when the scope closes. */
  tempDir(prefix = 'quire-bench-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  private closing: Promise<void> | undefined;

  /** Runs the steps once; a second call (an interrupt during a close) waits for the same run. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step();
        } catch (err) {
          console.error(`cleanup step failed: ${(err as Error).message}`);
        }
      }
      open.delete(this);
    })();
    return this.closing;
  }
}

/** Runs `work` in a fresh scope that is closed afterwards, on success and on failure alike. */
export async function withScope<T>(work: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  try {
    return await work(scope);
  } finally {
    await scope.close();
  }
}

/** Kills every child still running (servers, wrk): whatever waits on them fails, and its scope closes. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Closes every open scope (innermost first), kills every child still running, and lets no new scope open. */
export async function cleanUpEverything(): Promise<void> {
  stopping = true;
  for (const scope of [...open].reverse()) await scope.close();
  killChildren();
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: stopping the servers and removing temp files…`);
    cleanUpEverything().finally(() => process.exit(130));
  });
}
// last resort (an uncaught error, process.exit elsewhere): no child outlives the bench
process.on('exit', killChildren);
