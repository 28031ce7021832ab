/**
 * Does the server's memory stay flat as bodies grow, and how close does a save come to the disk's own speed?
 * Runs `quire serve` as a child process, PutFiles and GetFiles a small body (the baseline) and then a large one
 * (1 GiB by default; BENCH_MB overrides), and prints the server's peak RSS (VmHWM) after each, with the ratio
 * large/baseline (flat ≈ 1). It also writes the same number of bytes straight to a file with fsync in this process,
 * and prints PutFile's throughput as a ratio of that (the network, hashing and the catalog are the difference).
 *
 *   node --import tsx bench/upload-memory.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LARGE_MB = Number(process.env.BENCH_MB ?? 1024);
const BASELINE_MB = 8;
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'quire.js');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const peakRssMb = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
};

const chunk = randomBytes(1024 * 1024);

function put(url: string, mb: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const req = request(url, {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'bench', 'Content-Length': mb * chunk.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve(hash.digest('hex')) : reject(new Error(`PUT ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < mb) {
        sent++;
        hash.update(chunk);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const hash = createHash('sha256');
      res.on('data', (d) => hash.update(d));
      res.on('end', () => resolve(hash.digest('hex')));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** The same bytes written to a local file and fsynced, in this process: what the disk allows. */
async function rawDiskWrite(path: string, mb: number): Promise<number> {
  const started = performance.now();
  const fh = await open(path, 'w');
  for (let i = 0; i < mb; i++) await fh.write(chunk);
  await fh.sync();
  await fh.close();
  const seconds = (performance.now() - started) / 1000;
  rmSync(path);
  return mb / seconds;
}

const dir = mkdtempSync(join(tmpdir(), 'quire-bench-'));
const port = await freePort();
const server = spawn(process.execPath, [bin, 'serve', '--data', dir, '--port', String(port), '--log-level', 'warn'], {
  stdio: 'ignore',
});
try {
  for (let i = 0; i < 80; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  writeFileSync(join(dir, 'bench.bin'), '');
  const cli = (...args: string[]) =>
    JSON.parse(execFileSync(process.execPath, [bin, ...args, '--data', dir], { encoding: 'utf8' }));
  const { id } = cli('add', join(dir, 'bench.bin'));
  const { access_token } = cli('token', id, '--user', 'bench');
  const base = `http://127.0.0.1:${port}/wopi/files/${id}`;
  const q = `?access_token=${access_token}`;
  const lock = await fetch(base + q, {
    method: 'POST',
    headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'bench' },
  });
  if (lock.status !== 200) throw new Error(`LOCK ${lock.status}`);

  const measure = async (mb: number) => {
    const t0 = performance.now();
    const sent = await put(`${base}/contents${q}`, mb);
    const t1 = performance.now();
    const got = await get(`${base}/contents${q}`);
    const t2 = performance.now();
    if (sent !== got) throw new Error('downloaded bytes differ from uploaded bytes');
    const seconds = (a: number, b: number) => (b - a) / 1000;
    return {
      mb,
      peakRss: peakRssMb(server.pid as number),
      putMBs: mb / seconds(t0, t1),
      getMBs: mb / seconds(t1, t2),
    };
  };
  const diskMBs = await rawDiskWrite(join(dir, 'raw-baseline.bin'), LARGE_MB);
  const small = await measure(BASELINE_MB);
  const large = await measure(LARGE_MB);
  for (const r of [small, large]) {
    console.log(
      `${String(r.mb).padStart(5)} MB body: server peak RSS ${r.peakRss.toFixed(1)} MB, ` +
        `PUT ${r.putMBs.toFixed(0)} MB/s, GET ${r.getMBs.toFixed(0)} MB/s`,
    );
  }
  const ratio = large.peakRss / small.peakRss;
  console.log(`peak RSS ratio, ${LARGE_MB} MB body / ${BASELINE_MB} MB body: ${ratio.toFixed(2)} (flat ≈ 1)`);
  console.log(
    `PutFile throughput / raw disk write with fsync (${diskMBs.toFixed(0)} MB/s): ${(large.putMBs / diskMBs).toFixed(2)}`,
  );
} finally {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
