/** Durations and sizes: the full run, or BENCH_QUICK=1 for trying things (shorter runs, 256 MB instead of 1 GiB). */

export const QUICK = process.env.BENCH_QUICK === '1';

const MiB = 1024 * 1024;

export const config = {
  quick: QUICK,
  /** wrk: one warm-up of this length (discarded), then `rounds` measured runs alternating Quire and its baseline. */
  warmupSeconds: 1,
  roundSeconds: QUICK ? 1 : 3,
  rounds: 2,
  /** PutFile 20 MB: this many saves for each side, interleaved. */
  putSmallMb: 20,
  putSmallRepeats: QUICK ? 3 : 8,
  /** The large body for PutFile and the memory checks. */
  largeMb: QUICK ? 256 : 1024,
  /** LOCK at once on one file: this many rounds of 64 clients. */
  stampedeClients: 64,
  stampedeRounds: QUICK ? 3 : 10,
  /** The lock loop: 32 clients on 32 files for this long. */
  lockLoopClients: 32,
  lockLoopSeconds: QUICK ? 3 : 10,
  /** Scale: the catalog sizes compared. */
  scaleSmall: 1_000,
  scaleLarge: QUICK ? 100_000 : 1_000_000,
  rssLimitMb: 150,
  MiB,
};

export const largeLabel = (mb: number) => (mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GiB` : `${mb} MB`);
