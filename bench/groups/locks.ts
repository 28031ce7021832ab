import { randomBytes } from 'node:crypto';
import { withScope } from '../lib/cleanup.ts';
import { config } from '../lib/config.ts';
import { keepAlive, type Reply, request } from '../lib/http.ts';
import { addFile, newStore, type Prepared, serve, withLibrary, wopi } from '../lib/quire.ts';
import type { Backend, Server } from '../lib/servers.ts';
import { count, ms, type Row } from '../lib/table.ts';

const header = (r: Reply, name: string) => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * 64 clients (each on its own keep-alive connection, opened beforehand) send LOCK for the same file at once, with
 * different lock ids: exactly one must get 200, and every other one 409 carrying the winner's id in X-WOPI-Lock.
 * Repeated for several rounds (the winner unlocks between rounds).
 */
async function stampede(server: Server, file: Prepared): Promise<StampedeResult> {
  const clients = config.stampedeClients;
  const agent = keepAlive(clients);
  const url = wopi(server, file).file;
  const totals: StampedeResult = { rounds: 0, goodRounds: 0, ok: 0, conflictsWithWinner: 0, other: [] };
  try {
    // open every connection first, so the LOCKs below leave together
    await Promise.all(
      Array.from({ length: clients }, () =>
        request(url, { method: 'POST', agent, headers: { 'X-WOPI-Override': 'GET_LOCK' } }),
      ),
    );
    for (let round = 0; round < config.stampedeRounds; round++) {
      const ids = Array.from({ length: clients }, (_, i) => `stampede-${round}-${i}-${randomBytes(4).toString('hex')}`);
      const replies = await Promise.all(
        ids.map((id) =>
          request(url, { method: 'POST', agent, headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': id } }),
        ),
      );
      const winners = replies.map((r, i) => (r.status === 200 ? ids[i] : undefined)).filter((id) => id !== undefined);
      const winner = winners[0];
      let good = winners.length === 1;
      totals.ok += winners.length;
      for (const r of replies) {
        if (r.status === 200) continue;
        if (r.status === 409 && winner !== undefined && header(r, 'X-WOPI-Lock') === winner) {
          totals.conflictsWithWinner++;
        } else {
          good = false;
          totals.other.push(`${r.status} (X-WOPI-Lock: ${header(r, 'X-WOPI-Lock') ?? 'none'})`);
        }
      }
      totals.rounds++;
      if (good) totals.goodRounds++;
      for (const id of winners) {
        await request(url, { method: 'POST', agent, headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': id } });
      }
    }
  } finally {
    agent.destroy();
  }
  return totals;
}

interface StampedeResult {
  rounds: number;
  goodRounds: number;
  ok: number;
  conflictsWithWinner: number;
  other: string[];
}

/**
 * 32 clients, each on its own file and connection, loop LOCK → REFRESH_LOCK → PutFile (1 KiB, new bytes each
 * time) → UNLOCK for a fixed time; every answer must be 200. Reports requests/s, cycles/s and the p99 latency of
 * all requests.
 */
async function lockLoop(server: Server, files: Prepared[]) {
  const agent = keepAlive(files.length);
  const latencies: number[] = [];
  const errors: string[] = [];
  let cycles = 0;
  const deadline = performance.now() + config.lockLoopSeconds * 1000;
  const started = performance.now();
  const step = async (url: string, headers: Record<string, string>, body?: Buffer) => {
    const t0 = performance.now();
    const r = await request(url, { method: 'POST', agent, headers, ...(body && { body }) });
    latencies.push(performance.now() - t0);
    return r;
  };
  const client = async (file: Prepared, c: number) => {
    const urls = wopi(server, file);
    for (let n = 0; performance.now() < deadline; n++) {
      const lock = `loop-${c}-${n}`;
      const expect200 = (what: string, r: Reply) => {
        if (r.status !== 200)
          throw new Error(
            `${what} answered ${r.status} (${header(r, 'X-WOPI-ServerError') ?? r.body.toString().slice(0, 80)})`,
          );
      };
      try {
        expect200('LOCK', await step(urls.file, { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lock }));
        expect200('REFRESH_LOCK', await step(urls.file, { 'X-WOPI-Override': 'REFRESH_LOCK', 'X-WOPI-Lock': lock }));
        expect200(
          'PutFile',
          await step(urls.contents, { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock }, randomBytes(1024)),
        );
        expect200('UNLOCK', await step(urls.file, { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': lock }));
        cycles++;
      } catch (err) {
        errors.push((err as Error).message);
        // start the next cycle from an unlocked file
        await request(urls.file, {
          method: 'POST',
          agent,
          headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': lock },
        }).catch(() => {});
      }
    }
  };
  try {
    await Promise.all(files.map((f, c) => client(f, c)));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)] ?? 0;
  return { requests: latencies.length, cycles, seconds, p99, errors };
}

export async function locks(backend: Backend): Promise<Row[]> {
  return withScope(async (scope) => {
    const store = newStore(scope, backend);
    const { one, many } = await withLibrary(store, async (q) => {
      const one = await addFile(q, 'Shared budget.xlsx', randomBytes(4096));
      const many: Prepared[] = [];
      for (let i = 0; i < config.lockLoopClients; i++)
        many.push(await addFile(q, `Notes ${i}.docx`, randomBytes(1024)));
      return { one, many };
    });
    const server = await serve(scope, store);

    const s = await stampede(server, one);
    const loop = await lockLoop(server, many);
    const others = s.rounds * config.stampedeClients - s.ok - s.conflictsWithWinner;
    const firstErrors = [...new Set(loop.errors)].slice(0, 3).join('; ');
    return [
      {
        backend: backend.name,
        key: 'lock-stampede',
        path: `LOCK, ${config.stampedeClients} clients at once on one file (${s.rounds} rounds)`,
        quire:
          `${s.goodRounds}/${s.rounds} rounds right: ${s.ok} × 200, ${s.conflictsWithWinner} × 409 with the winner's id` +
          (others > 0 ? `, ${others} other (${[...new Set(s.other)].slice(0, 3).join(', ')})` : ''),
        baseline: '— (correctness)',
        target: `each round 1 × 200, ${config.stampedeClients - 1} × 409 + winner's id`,
        result: s.goodRounds === s.rounds ? 'PASS' : 'SHORT',
      },
      {
        backend: backend.name,
        key: 'lock-loop',
        path: `${config.lockLoopClients} clients × own file: LOCK, REFRESH_LOCK, PutFile 1 KiB, UNLOCK for ${config.lockLoopSeconds} s`,
        quire:
          `${count(loop.requests / loop.seconds)} req/s (${count(loop.cycles / loop.seconds)} cycles/s), p99 ${ms(loop.p99)}, ` +
          `${loop.errors.length} errors${firstErrors ? ` (${firstErrors})` : ''}`,
        baseline: '— (no baseline)',
        target: '0 errors',
        result: loop.errors.length === 0 && loop.cycles > 0 ? 'PASS' : 'SHORT',
        value: loop.requests / loop.seconds,
      },
    ];
  });
}
