import { type ChildProcess, fork } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Storage } from '../storage/types.ts';
import type { StorageBackend } from './backend.ts';
import { numberedNames, versionOf } from './fixture.ts';

/**
 * Work a second instance does against the same data, written once so a suite can run it in this process (on a
 * peer Storage) or in another process (peer-process.ts), where writers contend only through the database, as two
 * servers or a server and a CLI command do.
 *
 * `pauseMs` between steps leaves the other writer room: SQLite lets a waiting writer in only when its busy handler
 * next polls, so a writer looping without pause keeps the database to itself and the race is never run.
 */
interface Paced {
  pauseMs?: number;
}
const pause = (a: Paced) => (a.pauseMs ? sleep(a.pauseMs) : undefined);

export const peerTasks = {
  /**
   * Appends `tag` to the lock's value, `count` times, each a separate compare-and-set: a lost update shows as a
   * missing tag, and the order of the tags shows how the writers interleaved.
   */
  async lockAppend(
    storage: Storage,
    a: Paced & { fileId: string; tag: string; count: number; now: number; expiresAt: number },
  ) {
    for (let i = 0; i < a.count; i++) {
      await storage.locks.update(a.fileId, a.now, (current) => ({
        value: (current?.value ?? '') + a.tag,
        expiresAt: a.expiresAt,
      }));
      await pause(a);
    }
    return null;
  },
  /** Commits `count` versions at the same `now`; answers the version numbers it got. */
  async commit(storage: Storage, a: Paced & { fileId: string; count: number; now: number; author: string }) {
    const version = await versionOf(storage, `from ${a.author}`, { authorId: a.author });
    const got: number[] = [];
    for (let i = 0; i < a.count; i++) {
      got.push((await storage.catalog.commitVersion(a.fileId, version, a.now, () => {})).version);
      await pause(a);
    }
    return got;
  },
  /** Creates `count` files, each under the first free of `base.ext`, `base (1).ext` …; answers their names. */
  async create(storage: Storage, a: Paced & { base: string; ext: string; count: number; now: number; owner: string }) {
    const version = await versionOf(storage, `from ${a.owner}`, { authorId: a.owner, source: 'import' });
    const names: string[] = [];
    for (let i = 0; i < a.count; i++) {
      const file = await storage.catalog.createFile({
        names: numberedNames(a.base, a.ext, 200),
        ownerId: a.owner,
        version,
        now: a.now,
      });
      names.push(file.name);
      await pause(a);
    }
    return names;
  },
};

export type PeerTaskName = keyof typeof peerTasks;
export type PeerTaskArgs<K extends PeerTaskName> = Parameters<(typeof peerTasks)[K]>[1];
export type PeerTaskResult<K extends PeerTaskName> = Awaited<ReturnType<(typeof peerTasks)[K]>>;

export interface PeerRequest {
  id: number;
  /** The module to load the backend from (StorageBackend.module), as a URL. */
  module: string;
  backend: string;
  dir: string;
  task: PeerTaskName;
  args: unknown;
}
export type PeerReply =
  | { id: number; type: 'started' }
  | { id: number; type: 'done'; result: unknown }
  | { id: number; type: 'failed'; error: string };

interface Pending {
  started(): void;
  done(result: unknown): void;
  failed(err: Error): void;
}

interface Helper {
  process: ChildProcess;
  pending: Map<number, Pending>;
}

/**
 * One helper process per test file (and set of Node flags), started on first use and shared by every suite and
 * backend (starting it costs about a second). It holds nothing open between tasks and exits when this process does.
 */
const helpers = new Map<string, Helper>();
let nextId = 1;

/** The helper's own file: peer-process.ts beside this one when the suites run from source, .js once compiled. */
const helperFile = () =>
  fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './peer-process.ts' : './peer-process.js', import.meta.url));

function helperProcess(execArgv: readonly string[]): Helper {
  const key = JSON.stringify(execArgv);
  const existing = helpers.get(key);
  if (existing) return existing;
  const pending = new Map<number, Pending>();
  const started = fork(helperFile(), [], {
    execArgv: [...execArgv],
    // stdout is the test runner's channel in a test file's process; keep it clean
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const helper: Helper = { process: started, pending };
  started.on('message', (raw) => {
    const reply = raw as PeerReply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    if (reply.type === 'started') return waiter.started();
    pending.delete(reply.id);
    // Waiting for nobody: the test process may end whenever no task is under way.
    if (pending.size === 0) started.channel?.unref();
    if (reply.type === 'done') waiter.done(reply.result);
    else waiter.failed(new Error(`in the peer process: ${reply.error}`));
  });
  started.on('exit', (code, signal) => {
    helpers.delete(key);
    for (const waiter of pending.values()) waiter.failed(new Error(`the peer process exited (${code ?? signal})`));
    pending.clear();
  });
  started.unref();
  started.channel?.unref();
  helpers.set(key, helper);
  return helper;
}

/** A module as the helper imports it: a URL (import.meta.url, a URL object) as given, a file path made a file URL. */
const moduleUrl = (module: string | URL) =>
  module instanceof URL ? module.href : isAbsolute(module) ? pathToFileURL(module).href : module;

/**
 * Runs one of `peerTasks` in a helper process, on a peer of the store `backend` opened in `dir` (the backend loaded
 * there from `backend.module`). `started` resolves once that peer is open and the task begins, so the caller can
 * start its own half of a race then; `done` resolves with the task's result after the peer is closed again.
 */
export function inPeerProcess<K extends PeerTaskName>(
  backend: StorageBackend,
  dir: string,
  task: K,
  args: PeerTaskArgs<K>,
): { started: Promise<void>; done: Promise<PeerTaskResult<K>> } {
  if (!backend.module) throw new Error(`${backend.name} names no module to load it from (StorageBackend.module)`);
  const module = moduleUrl(backend.module);
  const helper = helperProcess(backend.execArgv ?? process.execArgv);
  const id = nextId++;
  let onStarted!: () => void;
  let onFailedToStart!: (err: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    onFailedToStart = reject;
  });
  const done = new Promise<PeerTaskResult<K>>((resolve, reject) => {
    helper.pending.set(id, {
      started: onStarted,
      done: (result) => resolve(result as PeerTaskResult<K>),
      failed: (err) => {
        onFailedToStart(err);
        reject(err);
      },
    });
  });
  // Callers await `started` first; `done` must not be reported unhandled if starting failed.
  done.catch(() => {});
  helper.process.channel?.ref();
  helper.process.send({
    id,
    module,
    backend: backend.name,
    dir,
    task,
    args,
  } satisfies PeerRequest);
  return { started, done };
}
