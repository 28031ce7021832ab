import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Scope, stopChild, track } from './cleanup.ts';

/**
 * wrk (Debian's package) drives every throughput figure, for Quire and its baseline alike. Each run gets a Lua
 * script (written to the scope's temp dir) that sets the method, headers and body, and whose done() prints the
 * counts and the latency percentiles as one JSON line, which is what is parsed.
 */

export interface WrkRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkRun extends WrkRequest {
  connections: number;
  seconds: number;
  threads?: number;
  timeoutSeconds?: number;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  /** requests per second */
  rps: number;
  /** response bytes per second */
  bytesPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** socket errors (connect, read, write, timeout) and responses with status ≥ 400 */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  errorCount: number;
}

/** Says how to get wrk and exits when it is not installed. */
export function requireWrk(): string {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    console.error(
      'wrk is not installed, and every throughput benchmark needs it (the same load generator for Quire and its\n' +
        "baselines). Install Debian's package and run again:\n\n    apt-get install wrk\n",
    );
    process.exit(1);
  }
  return (/wrk \S+/.exec(`${probe.stdout}${probe.stderr}`)?.[0] ?? 'wrk').trim();
}

/** A Lua string literal: printable ASCII as is, everything else as decimal escapes. */
const lua = (s: string) =>
  `"${[...Buffer.from(s, 'utf8')]
    .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b}`))
    .join('')}"`;

const MARK = 'WRK_JSON ';

function script(req: WrkRequest): string {
  const lines = [`wrk.method = ${lua(req.method ?? 'GET')}`];
  for (const [name, value] of Object.entries(req.headers ?? {}))
    lines.push(`wrk.headers[${lua(name)}] = ${lua(value)}`);
  if (req.body !== undefined) lines.push(`wrk.body = ${lua(req.body)}`);
  lines.push(`
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${MARK}{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"connect":%.0f,"read":%.0f,' ..
    '"write":%.0f,"status":%.0f,"timeout":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end`);
  return `${lines.join('\n')}\n`;
}

let scripts = 0;

/** Runs wrk once and returns what its done() reported. */
export async function wrk(scope: Scope, dir: string, run: WrkRun): Promise<WrkResult> {
  const path = join(dir, `wrk-${process.pid}-${scripts++}.lua`);
  writeFileSync(path, script(run));
  const args = [
    `-t${run.threads ?? 2}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    `--timeout`,
    `${run.timeoutSeconds ?? 10}s`,
    '-s',
    path,
    run.url,
  ];
  const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  scope.defer(() => stopChild(child, 500));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const line = out.split('\n').find((l) => l.startsWith(MARK));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err.trim() || out.trim()}`);
  const j = JSON.parse(line.slice(MARK.length)) as Record<string, number>;
  const n = (k: string) => j[k] ?? 0;
  const seconds = n('duration_us') / 1e6;
  const errors = {
    connect: n('connect'),
    read: n('read'),
    write: n('write'),
    timeout: n('timeout'),
    status: n('status'),
  };
  return {
    requests: n('requests'),
    seconds,
    rps: n('requests') / seconds,
    bytesPerSecond: n('bytes') / seconds,
    p50Ms: n('p50') / 1000,
    p90Ms: n('p90') / 1000,
    p99Ms: n('p99') / 1000,
    maxMs: n('max') / 1000,
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
  };
}

/** Several runs as one: requests and bytes summed, the worst p99 (latencies of separate runs cannot be merged). */
export function combine(runs: WrkResult[]): WrkResult {
  const sum = (f: (r: WrkResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const seconds = sum((r) => r.seconds);
  const max = (f: (r: WrkResult) => number) => Math.max(...runs.map(f));
  return {
    requests: sum((r) => r.requests),
    seconds,
    rps: sum((r) => r.requests) / seconds,
    bytesPerSecond: sum((r) => r.bytesPerSecond * r.seconds) / seconds,
    p50Ms: max((r) => r.p50Ms),
    p90Ms: max((r) => r.p90Ms),
    p99Ms: max((r) => r.p99Ms),
    maxMs: max((r) => r.maxMs),
    errors: {
      connect: sum((r) => r.errors.connect),
      read: sum((r) => r.errors.read),
      write: sum((r) => r.errors.write),
      timeout: sum((r) => r.errors.timeout),
      status: sum((r) => r.errors.status),
    },
    errorCount: sum((r) => r.errorCount),
  };
}

export type WrkTarget = Omit<WrkRun, 'seconds'>;

/**
 * Quire and its baseline under the same load, alternating: one warm-up each (discarded), then `rounds` runs each
 * in ABBA order so that drift on a shared machine falls on both sides alike.
 */
export async function sideBySide(
  scope: Scope,
  dir: string,
  quire: WrkTarget,
  baseline: WrkTarget,
  timing: { warmupSeconds: number; roundSeconds: number; rounds: number },
): Promise<{ quire: WrkResult; baseline: WrkResult }> {
  await wrk(scope, dir, { ...baseline, seconds: timing.warmupSeconds });
  await wrk(scope, dir, { ...quire, seconds: timing.warmupSeconds });
  const q: WrkResult[] = [];
  const b: WrkResult[] = [];
  for (let i = 0; i < timing.rounds; i++) {
    const order = i % 2 === 0 ? ([baseline, quire] as const) : ([quire, baseline] as const);
    for (const target of order) {
      const result = await wrk(scope, dir, { ...target, seconds: timing.roundSeconds });
      (target === quire ? q : b).push(result);
    }
  }
  return { quire: combine(q), baseline: combine(b) };
}

/** '' when the run had no errors, else what they were. */
export function errorNote(r: WrkResult): string {
  if (r.errorCount === 0) return '';
  const parts = Object.entries(r.errors)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === 'status' ? 'status ≥ 400' : k}`);
  return ` · errors: ${parts.join(', ')}`;
}
