/**
 * `npm run bench`: Quire's hot paths against their physical baselines, measured side by side in the same run, on
 * SQLite and (when reachable) PostgreSQL; prints one Markdown table. See bench/README.md.
 *
 *   npm run bench                              every group, both backends (~6 minutes on 2 cores)
 *   npm run bench -- checkfileinfo getfile     only those groups (also: putfile, locks, scale; sqlite, postgres)
 *   BENCH_QUICK=1 npm run bench                shorter runs, 256 MiB instead of 1 GiB, 100,000 files instead of 1M
 *   QUIRE_BENCH_DATABASE_URL=postgres://…      the PostgreSQL to use (a fresh schema per server, dropped after)
 *   QUIRE_BENCH_S3_ENDPOINT=http://…           the S3 endpoint of the s3 group (skipped without; bench/lib/s3.ts)
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { checkFileInfo } from './groups/checkfileinfo.ts';
import { getFile } from './groups/getfile.ts';
import { locks } from './groups/locks.ts';
import { putFile } from './groups/putfile.ts';
import { s3 } from './groups/s3.ts';
import { scale } from './groups/scale.ts';
import { cleanUpEverything, killChildren } from './lib/cleanup.ts';
import { config } from './lib/config.ts';
import { DEFAULT_DATABASE_URL, printable, unreachable } from './lib/postgres.ts';
import { type Backend, root } from './lib/servers.ts';
import { type Row, render, rows } from './lib/table.ts';
import { requireWrk } from './lib/wrk.ts';

type Log = (line: string) => void;
const GROUPS: Record<string, (backend: Backend, log: Log) => Promise<Row[]>> = {
  checkfileinfo: checkFileInfo,
  getfile: getFile,
  putfile: putFile,
  locks,
  scale,
  s3,
};
const BACKENDS = ['sqlite', 'postgres'];
const GROUP_TIMEOUT_S = 300;

const args = process.argv.slice(2).map((a) => a.toLowerCase());
const unknown = args.filter((a) => !(a in GROUPS) && !BACKENDS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown: ${unknown.join(', ')}\nchoose from: ${[...Object.keys(GROUPS), ...BACKENDS].join(' ')}`);
  process.exit(2);
}
const groups = Object.keys(GROUPS).filter(
  (g) => args.length === 0 || args.includes(g) || args.every((a) => BACKENDS.includes(a)),
);
const wantSqlite = !args.includes('postgres') || args.includes('sqlite');
const wantPostgres = !args.includes('sqlite') || args.includes('postgres');

const wrkVersion = requireWrk();
const databaseUrl = process.env.QUIRE_BENCH_DATABASE_URL || DEFAULT_DATABASE_URL;
// the servers and the library get their settings from the command line only (bench/lib/s3.ts read QUIRE_BENCH_S3_*
// when it was loaded, above)
for (const name of Object.keys(process.env)) if (name.startsWith('QUIRE_')) delete process.env[name];

const notes: string[] = [];
const backends: Backend[] = [];
if (wantSqlite) backends.push({ name: 'SQLite' });
if (wantPostgres) {
  const why = await unreachable(databaseUrl);
  if (why) {
    const note = `PostgreSQL at ${printable(databaseUrl)} is unreachable (${why}): SQLite only.`;
    console.error(note);
    notes.push(note);
  } else {
    backends.push({ name: 'PostgreSQL', url: databaseUrl });
  }
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
console.error(
  `Quire benchmarks${config.quick ? ' (quick mode)' : ''}: ${groups.join(', ')} on ${backends.map((b) => b.name).join(' and ')}`,
);
try {
  for (const group of groups) {
    for (const backend of backends) {
      const log: Log = (line) => console.error(`  [${elapsed()}] ${backend.name} ${group}: ${line}`);
      log('running');
      // a group that hangs (a server that stops answering) is ended: its children are killed, so it fails
      const watchdog = setTimeout(() => {
        log(`still running after ${GROUP_TIMEOUT_S} s: killing its processes`);
        killChildren();
      }, GROUP_TIMEOUT_S * 1000);
      try {
        const got = await (GROUPS[group] as (b: Backend, l: Log) => Promise<Row[]>)(backend, log);
        rows.push(...got);
        for (const r of got) log(`${r.path}: ${r.quire} | ${r.ratio?.toFixed(2) ?? '—'} ${r.result}`);
      } catch (err) {
        const message = (err as Error).stack ?? String(err);
        log(`FAILED: ${message}`);
        rows.push({
          backend: backend.name,
          key: `${group}-failed`,
          path: `${group} (the whole group)`,
          quire: `failed: ${(err as Error).message.split('\n')[0]?.slice(0, 200)}`,
          baseline: '—',
          target: '—',
          result: 'FAILED',
        });
      } finally {
        clearTimeout(watchdog);
      }
    }
  }
} finally {
  await cleanUpEverything();
}

/** Which Quire was measured: the commit, and whether src/ had changes not committed yet. */
function revision(): string {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'Quire (not a git checkout)';
  return `Quire at ${head}${git('status', '--porcelain', '--', 'src') ? ' + uncommitted changes in src/' : ''}`;
}

const seconds = (performance.now() - started) / 1000;
const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
console.log(`\n${new Date().toString()}`);
console.log(
  `${revision()}; ${cpus().length} × ${cpu}, Node ${process.version}, ${wrkVersion}` +
    `${backends.some((b) => b.name === 'PostgreSQL') ? `, PostgreSQL at ${printable(databaseUrl)}` : ''}` +
    `${config.quick ? ', QUICK MODE (BENCH_QUICK=1)' : ''}; run time ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s\n`,
);
console.log(render(rows));
for (const note of notes) console.log(`\n${note}`);
const short = rows.filter((r) => r.result === 'SHORT' || r.result === 'FAILED').length;
console.log(`\n${rows.filter((r) => r.result === 'PASS').length} PASS, ${short} SHORT or FAILED`);
