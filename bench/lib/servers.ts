import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Scope, stopChild, track } from './cleanup.ts';

/** Quire and the bare baseline servers, each as a child process on a free port of 127.0.0.1. */

export const root = join(import.meta.dirname, '..', '..');
const quireBin = join(root, 'bin', 'quire.js');
const bareServer = join(root, 'bench', 'lib', 'bare-server.ts');

export interface Server {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  child: ChildProcess;
}

/**
 * Spawns `args`, waits until its stdout matches `listening` (whose group 1 is the port), and registers it with
 * `scope` so that it is stopped when the scope closes.
 */
async function startChild(
  scope: Scope,
  what: string,
  args: string[],
  listening: RegExp,
  env?: Record<string, string>,
): Promise<Server> {
  const child = track(
    spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env && { env: { ...process.env, ...env } }),
    }),
  );
  scope.defer(() => stopChild(child));
  let out = '';
  let err = '';
  // keep reading both pipes for the child's whole life, so it never blocks on a full pipe
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s: ${err || out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
      const m = listening.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before listening: ${err.trim() || out.trim()}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, child };
}

export type Backend = { name: 'SQLite' } | { name: 'PostgreSQL'; url: string };

/**
 * `node bin/quire.js serve --log-level warn …`, as a user runs it, on port 0 (the OS picks a free one); `extra`
 * adds flags and environment variables (the bench deletes QUIRE_* from its own environment, so a setting that is
 * read only from the environment, such as S3 credentials, is passed here).
 */
export function startQuire(
  scope: Scope,
  dataDir: string,
  databaseUrl?: string,
  extra: { args?: string[]; env?: Record<string, string> } = {},
): Promise<Server> {
  const args = [quireBin, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'];
  if (databaseUrl) args.push('--database', databaseUrl);
  args.push(...(extra.args ?? []));
  return startChild(scope, 'quire serve', args, /listening on http:\/\/127\.0\.0\.1:(\d+)/, extra.env);
}

export type BareMode =
  | { mode: 'bytes'; file: string; contentType: string }
  | { mode: 'stream'; file: string }
  | { mode: 'upload'; dir: string };

/** A bare node:http server (bench/lib/bare-server.ts): the baseline, in its own process as Quire is. */
export function startBare(scope: Scope, spec: BareMode): Promise<Server> {
  const args = ['--import', 'tsx', bareServer, spec.mode];
  if (spec.mode === 'bytes') args.push(spec.file, spec.contentType);
  else if (spec.mode === 'stream') args.push(spec.file);
  else args.push(spec.dir);
  return startChild(scope, `bare ${spec.mode} server`, args, /listening on (\d+)/);
}

/** `url`'s path and query on `server`: the same request sent to a baseline. */
export function sameRequestOn(server: Server, url: string): string {
  const u = new URL(url);
  return `${server.url}${u.pathname}${u.search}`;
}

/** The process's peak resident set (VmHWM), in bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

/** Resets the peak to the current RSS (Linux: `5` into /proc/PID/clear_refs); false where that is not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
