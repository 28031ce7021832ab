import { createHash } from 'node:crypto';

/**
 * The reference model of the model-based test (test/model.test.ts): a few files, their lock, their version history
 * and their rescued saves, as plain data; and what Quire must answer to each WOPI operation, written from the spec
 * pages (../shared/spec/) and Quire's lock rules, independently of src/. Nothing here talks to a server.
 */

/** A lock id as an operation names it; `concrete` turns the relative ones into the exact value sent. */
export type LockRef =
  /** The editor's own lock ids: `L-<editor>-0` and `L-<editor>-1` (UnlockAndRelock moves between them). */
  | { kind: 'own'; n: 0 | 1 }
  /** Whatever lock the file holds now (the editor that holds it), or the editor's own first id when unlocked. */
  | { kind: 'held' }
  /** A lock nobody ever takes. */
  | { kind: 'stale' }
  /** No X-WOPI-Lock header at all. */
  | { kind: 'none' }
  /** A header Quire must refuse with 400: a tab inside it, or longer than 1024 characters. */
  | { kind: 'malformed'; how: 'tab' | 'long' }
  /** A value fixed when the operation was sent. */
  | { kind: 'exact'; value: string };

/** Collabora's X-COOL-WOPI-Timestamp: absent, the file's LastModifiedTime as the editor read it, an old one. */
export type StampRef = 'none' | 'current' | 'stale' | { exact: string };
export const STALE_STAMP = '2001-01-01T00:00:00.000Z';

/** X-WOPI-MaxExpectedSize on GetFile: absent, the head's size, one byte less (or a value fixed when sent). */
export type MaxRef = 'none' | 'head' | 'below' | number;

export type SizeHeader = 'none' | 'right' | 'wrong';

interface Target {
  /** Index into the simulated editors. */
  editor: number;
  /** Index into the run's files. */
  file: number;
}

export type Op = Target &
  (
    | { op: 'lock'; lock: LockRef }
    | { op: 'relock'; old: LockRef; lock: LockRef }
    | { op: 'unlock'; lock: LockRef }
    | { op: 'refresh'; lock: LockRef }
    | { op: 'getLock' }
    | {
        op: 'putFile';
        body: Uint8Array;
        lock: LockRef;
        size: SizeHeader;
        stamp: StampRef;
        autosave: boolean | undefined;
      }
    | { op: 'getFile'; max: MaxRef }
    | { op: 'checkFileInfo' }
    | { op: 'rename'; name: number; lock: LockRef }
    | { op: 'putRelative'; body: Uint8Array; lock: LockRef }
  );

export interface Version {
  bytes: Buffer;
  sha256: string;
  /** The user id that made it: the owner for the import, the editor for a save. */
  author: string;
  source: 'import' | 'put';
  autosave?: boolean;
}

export interface Rescued {
  bytes: Buffer;
  sha256: string;
  author: string;
  reason: string;
  source: 'put' | 'put-relative';
  lock?: string;
  autosave?: boolean;
}

export interface FileModel {
  id: string;
  /** The full name, extension included. */
  name: string;
  /** Version n is `versions[n - 1]`; the head is the last. */
  versions: Version[];
  lock: string | null;
  /** With a model clock: when the lock expires, and when it was last set or refreshed (ms). */
  lockExpiresAt?: number;
  lockRefreshedAt?: number;
  /** Oldest first. */
  rescued: Rescued[];
  /** LastModifiedTime (ISO) as last seen; undefined only until the first look, or after a kill left it unknown. */
  modifiedAt: string | undefined;
}

export interface RunModel {
  /** The prefix of every name this run's files have or ask for, so runs never collide. */
  tag: string;
  files: FileModel[];
  /** Names of the files PutRelativeFile made in this run. */
  copies: string[];
  /** The editors' user ids. */
  editors: string[];
  /** Kills done in this run (the process variant), against `maxKills`. */
  kills: number;
  maxKills: number;
  /** Steps done in this run, to name a failing step. */
  step: number;
  /**
   * The server's clock, when the test moves it (in process): the time now, the lock expiry (WOPI's 30 minutes) and
   * how long a silent editor keeps its lock (lockIdleReleaseMs). Without it time is real and runs are too short for
   * either to matter.
   */
  clock?: { now: number; ttlMs: number; idleMs: number };
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function version(bytes: Uint8Array, author: string, source: Version['source'], autosave?: boolean): Version {
  const b = Buffer.from(bytes);
  return { bytes: b, sha256: sha256Hex(b), author, source, ...(autosave !== undefined && { autosave }) };
}

export const head = (f: FileModel): Version => f.versions[f.versions.length - 1] as Version;

export function cloneRun(m: RunModel): RunModel {
  return {
    ...m,
    files: m.files.map((f) => ({ ...f, versions: [...f.versions], rescued: [...f.rescued] })),
    copies: [...m.copies],
    editors: [...m.editors],
    ...(m.clock && { clock: { ...m.clock } }),
  };
}

/**
 * Moves the model's clock: a lock whose expiry has come is no lock (it is live while its expiry is later than now),
 * and a lock whose editor neither set, refreshed nor saved for longer than the idle time is released (Quire releases
 * them on a timer; the test runs that timer's work right after it moves the clock, so the release is due then).
 */
/** Answers what became of each lock: 'expired', 'released' (idle) or 'kept'. */
export function advanceClock(m: RunModel, ms: number): Array<'expired' | 'released' | 'kept'> {
  const clock = m.clock;
  if (!clock) throw new Error('this run has no model clock');
  clock.now += ms;
  const outcomes: Array<'expired' | 'released' | 'kept'> = [];
  for (const f of m.files) {
    if (f.lock === null) continue;
    const expired = (f.lockExpiresAt as number) <= clock.now;
    if (f.modifiedAt === undefined) throw new Error('the model does not know LastModifiedTime');
    const lastActivity = Math.max(f.lockRefreshedAt as number, Date.parse(f.modifiedAt));
    const silent = clock.idleMs > 0 && lastActivity < clock.now - clock.idleMs;
    outcomes.push(expired ? 'expired' : silent ? 'released' : 'kept');
    if (expired || silent) {
      f.lock = null;
      delete f.lockExpiresAt;
      delete f.lockRefreshedAt;
    }
  }
  return outcomes;
}

/** The X-WOPI-Lock value (or undefined for no header) an operation sends. */
export function resolveLock(m: RunModel, t: Target, ref: LockRef): string | undefined {
  const editor = m.editors[t.editor] as string;
  switch (ref.kind) {
    case 'own':
      return `L-${editor}-${ref.n}`;
    case 'held':
      return m.files[t.file]?.lock ?? `L-${editor}-0`;
    case 'stale':
      return 'L-stale';
    case 'none':
      return undefined;
    case 'malformed':
      return ref.how === 'tab' ? 'bad\tlock' : 'x'.repeat(1025);
    case 'exact':
      return ref.value;
  }
}

/**
 * The operation with everything that depends on the model's state when it is sent fixed to values (the held lock,
 * the timestamp the editor read, the head's size), so that predicting it later, in another order, means the same.
 */
export function concrete(m: RunModel, op: Op): Op {
  const f = m.files[op.file] as FileModel;
  const fix = (ref: LockRef): LockRef => {
    if (ref.kind !== 'held') return ref;
    return { kind: 'exact', value: resolveLock(m, op, ref) as string };
  };
  switch (op.op) {
    case 'lock':
    case 'unlock':
    case 'refresh':
    case 'rename':
    case 'putRelative':
      return { ...op, lock: fix(op.lock) };
    case 'relock':
      return { ...op, old: fix(op.old), lock: fix(op.lock) };
    case 'putFile': {
      let stamp = op.stamp;
      if (stamp === 'current') {
        if (f.modifiedAt === undefined) throw new Error('the model does not know LastModifiedTime');
        stamp = { exact: f.modifiedAt };
      }
      return { ...op, lock: fix(op.lock), stamp };
    }
    case 'getFile': {
      const size = head(f).bytes.length;
      return { ...op, max: op.max === 'head' ? size : op.max === 'below' ? Math.max(0, size - 1) : op.max };
    }
    default:
      return op;
  }
}

/** Lock ids Quire takes: 1 to 1024 printable ASCII characters. */
export const wellFormedLock = (v: string) => v.length >= 1 && v.length <= 1024 && /^[\x20-\x7e]+$/.test(v);

/** The names RenameFile asks for (without extension): the run's tag, then one of these. */
export const RENAME_CHOICES = ['one', 'two', 'One', 'three', 'bad:name'] as const;
export const requestedName = (m: RunModel, n: number) => `${m.tag}-${RENAME_CHOICES[n % RENAME_CHOICES.length]}`;

export function splitExt(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? { base: name, ext: '' } : { base: name.slice(0, dot), ext: name.slice(dot) };
}

/** Names are compared without case. */
const key = (name: string) => name.normalize('NFC').toLowerCase();

/** `name`, else "base (1).ext", "base (2).ext" …: the first no other file of the run has (short names only). */
export function firstFreeName(m: RunModel, name: string, self?: number): string {
  const taken = new Set([...m.files.filter((_, i) => i !== self).map((f) => key(f.name)), ...m.copies.map(key)]);
  const { base, ext } = splitExt(name);
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${base} (${n})${ext}`;
    if (!taken.has(key(candidate))) return candidate;
  }
}

/** What Quire must answer to one operation, and what it changes when it is carried out. */
export interface Prediction {
  status: number;
  /** The X-WOPI-Lock response header: a string to match exactly, null for "must be absent", undefined to ignore. */
  lockHeader?: string | null;
  /** The X-WOPI-ItemVersion response header, when it must be present. */
  itemVersion?: number;
  /** Collabora's "document changed in storage": a body with COOLStatusCode 1010. */
  cool1010?: boolean;
  /** Why, in words, for failure messages. */
  why: string;
  /** Applies the operation's effect to a model (the one it was predicted on, or a copy of it). */
  apply?: (m: RunModel) => void;
}

const badRequest = (why: string): Prediction => ({ status: 400, why });
const conflict = (lock: string | null, why: string, apply?: (m: RunModel) => void): Prediction => ({
  status: 409,
  lockHeader: lock ?? '',
  why,
  ...(apply && { apply }),
});

/** The lock header a lock operation requires: absent or malformed is a 400. */
function requiredLockProblem(v: string | undefined): string | null {
  if (v === undefined) return 'X-WOPI-Lock missing';
  if (!wellFormedLock(v)) return 'X-WOPI-Lock malformed';
  return null;
}

/** Predicts a `concrete` operation against the model as it is when the operation takes effect. */
export function predict(m: RunModel, op: Op): Prediction {
  const f = m.files[op.file] as FileModel;
  const cur = f.lock;
  const v = f.versions.length;
  const author = m.editors[op.editor] as string;
  // setting a lock (again) and refreshing it restart its expiry and mark the editor active
  const setLock = (value: string | null) => (mm: RunModel) => {
    const ff = mm.files[op.file] as FileModel;
    ff.lock = value;
    if (value !== null && mm.clock) {
      ff.lockExpiresAt = mm.clock.now + mm.clock.ttlMs;
      ff.lockRefreshedAt = mm.clock.now;
    } else {
      delete ff.lockExpiresAt;
      delete ff.lockRefreshedAt;
    }
  };
  switch (op.op) {
    case 'lock': {
      const want = resolveLock(m, op, op.lock);
      const problem = requiredLockProblem(want);
      if (problem) return badRequest(problem);
      if (cur !== null && cur !== want) return conflict(cur, `locked with ${cur}, Lock asks for ${want}`);
      return {
        status: 200,
        itemVersion: v,
        why: cur ? 'Lock with the held lock refreshes' : 'Lock',
        apply: setLock(want as string),
      };
    }
    case 'relock': {
      const want = resolveLock(m, op, op.lock);
      const old = resolveLock(m, op, op.old);
      const problem =
        requiredLockProblem(want) ?? (old !== undefined && !wellFormedLock(old) ? 'OldLock malformed' : null);
      if (problem) return badRequest(problem);
      if (cur !== old) return conflict(cur, `UnlockAndRelock from ${old} but the lock is ${cur}`);
      return { status: 200, itemVersion: v, why: 'UnlockAndRelock', apply: setLock(want as string) };
    }
    case 'unlock':
    case 'refresh': {
      const held = resolveLock(m, op, op.lock);
      const problem = requiredLockProblem(held);
      if (problem) return badRequest(problem);
      if (cur !== held) return conflict(cur, `${op.op} with ${held} but the lock is ${cur}`);
      return {
        status: 200,
        itemVersion: v,
        why: op.op,
        apply: setLock(op.op === 'unlock' ? null : (held as string)),
      };
    }
    case 'getLock':
      return { status: 200, lockHeader: cur ?? '', why: 'GetLock' };
    case 'getFile':
      if (typeof op.max === 'number' && head(f).bytes.length > op.max) {
        return { status: 412, why: `the head has ${head(f).bytes.length} bytes, more than MaxExpectedSize ${op.max}` };
      }
      return { status: 200, itemVersion: v, why: 'GetFile' };
    case 'checkFileInfo':
      return { status: 200, why: 'CheckFileInfo' };
    case 'putFile': {
      const lock = resolveLock(m, op, op.lock);
      if (lock !== undefined && !wellFormedLock(lock)) return badRequest('X-WOPI-Lock malformed');
      const flags = op.autosave === undefined ? {} : { autosave: op.autosave };
      // a refused body is kept only when it arrived complete and as declared, and is not empty
      const keep = (reason: string) => (mm: RunModel) => {
        if (op.size === 'wrong' || op.body.length === 0) return;
        const b = Buffer.from(op.body);
        (mm.files[op.file] as FileModel).rescued.push({
          bytes: b,
          sha256: sha256Hex(b),
          author,
          reason,
          source: 'put',
          ...(lock !== undefined && { lock }),
          ...flags,
        });
      };
      if (cur !== null && cur !== lock) {
        const reason = lock === undefined ? 'file is locked and the request carries no lock' : 'lock mismatch';
        return conflict(cur, `PutFile with ${lock} on a file locked with ${cur}`, keep(reason));
      }
      if (cur === null && head(f).bytes.length !== 0) {
        const stamp = op.stamp === 'stale' ? STALE_STAMP : typeof op.stamp === 'object' ? op.stamp.exact : undefined;
        if (stamp === undefined) {
          return conflict(null, 'PutFile on an unlocked, non-empty file', keep('file is not locked and is not empty'));
        }
        if (f.modifiedAt === undefined) throw new Error('the model does not know LastModifiedTime');
        if (Date.parse(stamp) !== Date.parse(f.modifiedAt)) {
          return {
            ...conflict(null, `PutFile with timestamp ${stamp}, the file's is ${f.modifiedAt}`),
            cool1010: true,
            apply: keep('file changed since the editor last read it'),
          };
        }
      }
      if (op.size === 'wrong') return badRequest('X-WOPI-Size does not match the body');
      return {
        status: 200,
        lockHeader: null,
        itemVersion: v + 1,
        why: cur ? 'PutFile with the held lock' : 'PutFile on an unlocked file that is empty or has the timestamp',
        apply: (mm) => {
          const ff = mm.files[op.file] as FileModel;
          ff.versions.push(version(op.body, author, 'put', op.autosave));
          ff.modifiedAt = undefined;
        },
      };
    }
    case 'rename': {
      const lock = resolveLock(m, op, op.lock);
      if (cur !== null && cur !== lock) return conflict(cur, `RenameFile with ${lock} on a file locked with ${cur}`);
      const requested = requestedName(m, op.name);
      if (/[/\\:*?"<>|]/.test(requested)) return badRequest('illegal name');
      return {
        status: 200,
        why: 'RenameFile',
        apply: (mm) => {
          const ff = mm.files[op.file] as FileModel;
          ff.name = firstFreeName(mm, requested + splitExt(ff.name).ext, op.file);
        },
      };
    }
    case 'putRelative': {
      const lock = resolveLock(m, op, op.lock);
      // only a request that names a lock is refused for the source's lock
      if (lock !== undefined && cur !== null && cur !== lock) {
        return conflict(cur, `PutRelativeFile with ${lock} on a file locked with ${cur}`, (mm) => {
          if (op.body.length === 0) return;
          const b = Buffer.from(op.body);
          (mm.files[op.file] as FileModel).rescued.push({
            bytes: b,
            sha256: sha256Hex(b),
            author,
            reason: 'lock mismatch',
            source: 'put-relative',
            lock,
          });
        });
      }
      return {
        status: 200,
        why: 'PutRelativeFile',
        apply: (mm) => {
          mm.copies.push(firstFreeName(mm, `${splitExt(f.name).base}.pdf`));
        },
      };
    }
  }
}

/** One line per operation, for fast-check's counterexample and the failure messages. */
export function describeOp(op: Op): string {
  const ref = (r: LockRef) =>
    r.kind === 'own'
      ? `own${r.n}`
      : r.kind === 'malformed'
        ? `malformed(${r.how})`
        : r.kind === 'exact'
          ? JSON.stringify(r.value)
          : r.kind;
  const body = (b: Uint8Array) => `${b.length}B:${Buffer.from(b).toString('hex').slice(0, 8)}`;
  const who = `e${op.editor} f${op.file}`;
  switch (op.op) {
    case 'lock':
    case 'unlock':
    case 'refresh':
      return `${op.op}(${who}, ${ref(op.lock)})`;
    case 'relock':
      return `relock(${who}, ${ref(op.old)} -> ${ref(op.lock)})`;
    case 'putFile': {
      const stamp = typeof op.stamp === 'object' ? op.stamp.exact : op.stamp;
      const extra = `${op.stamp === 'none' ? '' : `, stamp=${stamp}`}${op.autosave === undefined ? '' : `, autosave=${op.autosave}`}`;
      return `putFile(${who}, ${body(op.body)}, lock=${ref(op.lock)}, size=${op.size}${extra})`;
    }
    case 'getFile':
      return `getFile(${who}${op.max === 'none' ? '' : `, max=${op.max}`})`;
    case 'putRelative':
      return `putRelative(${who}, ${body(op.body)}, lock=${ref(op.lock)})`;
    case 'rename':
      return `rename(${who}, ${RENAME_CHOICES[op.name % RENAME_CHOICES.length]}, lock=${ref(op.lock)})`;
    default:
      return `${op.op}(${who})`;
  }
}
