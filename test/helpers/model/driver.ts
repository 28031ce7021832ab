import assert, { AssertionError } from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { type ReadResponse, readResponse, utf7, WopiClient } from '../host.ts';
import { withTimeout } from '../process-helpers.ts';
import {
  advanceClock,
  cloneRun,
  concrete,
  describeOp,
  type FileModel,
  head,
  type LockRef,
  type Op,
  type Prediction,
  predict,
  type RunModel,
  requestedName,
  resolveLock,
  type SizeHeader,
  STALE_STAMP,
  sha256Hex,
  splitExt,
  version,
} from './wopi-model.ts';

/**
 * The real side of the model-based test: a Quire reached over HTTP (in this process, or a `quire serve` child that
 * the test kills), the fast-check commands that drive it, and the comparison of what it answers and stores with the
 * model (wopi-model.ts).
 */

export interface Harness {
  /** For messages: the storage kind, and whether a child process serves. */
  readonly name: string;
  /** The user id files are imported as (the author of version 1). */
  readonly ownerId: string;
  /** The base URL of the server now (a restarted child listens on a new port). */
  url(): string;
  addFile(name: string, bytes: Uint8Array): Promise<string>;
  token(fileId: string, userId: string): Promise<string>;
  /** A GET on Quire's JSON API as a signed-in user. */
  api(path: string): Promise<ReadResponse>;
  /** SIGKILL the server and start it again on the same data; only the process harness can. */
  kill?(): Promise<void>;
  restart?(): Promise<void>;
  /** Makes sure a server is up (after a failed run left it down). */
  ensureRunning?(): Promise<void>;
  /** The server's clock, when the test moves it (in process), with the lock expiry and idle release it runs with. */
  clock?: {
    now(): number;
    /** Moves the clock, then runs what Quire's timer would (releasing silent editors' locks). */
    advance(ms: number): Promise<void>;
    ttlMs: number;
    idleMs: number;
  };
  readonly stats: Stats;
}

/** What the runs did, for the test's diagnostics. */
export class Stats {
  readonly counts = new Map<string, number>();
  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  total(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.counts) if (k.startsWith(prefix)) n += v;
    return n;
  }
  summary(): string {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }
}

export interface RunReal {
  harness: Harness;
  /** `tokens[editor][file]`. */
  tokens: string[][];
}

export const EDITORS = ['ann', 'bob', 'cat'];

let runCounter = 0;

const b64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

const clientFor = (m: RunModel, r: RunReal, op: { editor: number; file: number }) =>
  new WopiClient(r.harness.url(), (m.files[op.file] as FileModel).id, r.tokens[op.editor]?.[op.file] as string);

/** A fresh run: two new files with the given first versions, a token per editor and file. */
export async function setupRun(
  harness: Harness,
  initial: Uint8Array[],
  maxKills: number,
): Promise<{ model: RunModel; real: RunReal }> {
  await harness.ensureRunning?.();
  const tag = `m${process.pid}x${++runCounter}`;
  const names = ['one', 'two'];
  const files: FileModel[] = [];
  for (const [i, bytes] of initial.entries()) {
    const name = `${tag}-${names[i]}.docx`;
    const id = await harness.addFile(name, bytes);
    files.push({
      id,
      name,
      versions: [version(bytes, harness.ownerId, 'import')],
      lock: null,
      rescued: [],
      modifiedAt: undefined,
    });
  }
  const editors = EDITORS.map((e) => `editor-${e}`);
  const tokens = await Promise.all(editors.map((e) => Promise.all(files.map((f) => harness.token(f.id, e)))));
  const clock = harness.clock && { now: harness.clock.now(), ttlMs: harness.clock.ttlMs, idleMs: harness.clock.idleMs };
  const model: RunModel = { tag, files, copies: [], editors, kills: 0, maxKills, step: 0, ...(clock && { clock }) };
  const real: RunReal = { harness, tokens };
  // the editors read the files first, as they do on opening them (Collabora's timestamp is this LastModifiedTime)
  for (const [i, f] of files.entries()) {
    const info = await clientFor(model, real, { editor: 0, file: i }).checkFileInfo();
    assert.equal(info.status, 200, info.text);
    f.modifiedAt = info.json.LastModifiedTime;
  }
  harness.stats.count('runs');
  return { model, real };
}

/** The request a `concrete` operation sends. */
function send(m: RunModel, r: RunReal, op: Op): Promise<ReadResponse> {
  const c = clientFor(m, r, op);
  const lockHeaders = (ref: LockRef, name = 'X-WOPI-Lock'): Record<string, string> => {
    const v = resolveLock(m, op, ref);
    return v === undefined ? {} : { [name]: v };
  };
  switch (op.op) {
    case 'lock':
      return c.override('LOCK', lockHeaders(op.lock));
    case 'relock':
      return c.override('LOCK', { ...lockHeaders(op.lock), ...lockHeaders(op.old, 'X-WOPI-OldLock') });
    case 'unlock':
      return c.override('UNLOCK', lockHeaders(op.lock));
    case 'refresh':
      return c.override('REFRESH_LOCK', lockHeaders(op.lock));
    case 'getLock':
      return c.getLock();
    case 'getFile':
      return c.getFile(typeof op.max === 'number' ? { 'X-WOPI-MaxExpectedSize': String(op.max) } : {});
    case 'checkFileInfo':
      return c.checkFileInfo();
    case 'putFile': {
      const headers: Record<string, string> = lockHeaders(op.lock);
      if (op.size !== 'none') headers['X-WOPI-Size'] = String(op.body.length + (op.size === 'wrong' ? 1 : 0));
      if (op.stamp === 'stale') headers['X-COOL-WOPI-Timestamp'] = STALE_STAMP;
      else if (typeof op.stamp === 'object') headers['X-COOL-WOPI-Timestamp'] = op.stamp.exact;
      if (op.autosave !== undefined) headers['X-COOL-WOPI-IsAutosave'] = String(op.autosave);
      return c.putFile(op.body, headers);
    }
    case 'rename':
      return c.rename(utf7(requestedName(m, op.name)), lockHeaders(op.lock));
    case 'putRelative':
      return c.putRelative(op.body, { 'X-WOPI-SuggestedTarget': '.pdf', ...lockHeaders(op.lock) });
  }
}

/**
 * Asserts one answer against the prediction and the model as it was before the operation, then applies the
 * operation's effect to the model.
 */
async function checkAnswer(
  m: RunModel,
  r: RunReal,
  op: Op,
  pred: Prediction,
  res: ReadResponse,
  label: string,
): Promise<void> {
  const f = m.files[op.file] as FileModel;
  const what = `${r.harness.name} ${label} ${describeOp(op)}`;
  assert.equal(
    res.status,
    pred.status,
    `${what}: expected ${pred.status} (${pred.why}), got ${res.status} ${res.text.slice(0, 300)}`,
  );
  const lock = res.headers.get('x-wopi-lock');
  if (pred.lockHeader === null) assert.equal(lock, null, `${what}: X-WOPI-Lock must not be sent (${pred.why})`);
  else if (pred.lockHeader !== undefined) {
    assert.equal(lock, pred.lockHeader, `${what}: X-WOPI-Lock on ${res.status} (${pred.why})`);
  }
  if (pred.itemVersion !== undefined) {
    assert.equal(res.headers.get('x-wopi-itemversion'), String(pred.itemVersion), `${what}: X-WOPI-ItemVersion`);
  }
  if (pred.cool1010) assert.equal(res.json?.COOLStatusCode, 1010, `${what}: COOLStatusCode 1010`);
  if (res.status === 200) {
    switch (op.op) {
      case 'getFile':
        assert.equal(sha256Hex(res.bytes), head(f).sha256, `${what}: GetFile returns the head's bytes`);
        break;
      case 'checkFileInfo': {
        const info = res.json;
        assert.equal(info.Version, String(f.versions.length), `${what}: Version`);
        assert.equal(info.Size, head(f).bytes.length, `${what}: Size`);
        assert.equal(b64ToHex(info.SHA256), head(f).sha256, `${what}: SHA256`);
        assert.equal(info.BaseFileName, f.name, `${what}: BaseFileName`);
        if (f.modifiedAt !== undefined) assert.equal(info.LastModifiedTime, f.modifiedAt, `${what}: LastModifiedTime`);
        f.modifiedAt = info.LastModifiedTime;
        break;
      }
      case 'putFile': {
        const at = res.json?.LastModifiedTime as string;
        assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `${what}: LastModifiedTime in the answer`);
        if (f.modifiedAt !== undefined) {
          assert.ok(at > f.modifiedAt, `${what}: LastModifiedTime ${at} after ${f.modifiedAt}`);
        }
        pred.apply?.(m);
        f.modifiedAt = at;
        return;
      }
      default:
        break;
    }
  }
  pred.apply?.(m);
  if (res.status !== 200) return;
  if (op.op === 'rename') {
    assert.equal(res.json?.Name, splitExt(f.name).base, `${what}: the Name RenameFile answers`);
  } else if (op.op === 'putRelative') {
    assert.equal(res.json?.Name, m.copies[m.copies.length - 1], `${what}: the Name PutRelativeFile answers`);
    const url = new URL(res.json.Url as string);
    // the new file's own URL, with the token it came with (on the server as it is now)
    const copy = await readResponse(await fetch(new URL(`${url.pathname}/contents${url.search}`, r.harness.url())));
    assert.equal(copy.status, 200, `${what}: GetFile of the new file`);
    assert.equal(sha256Hex(copy.bytes), sha256Hex(op.body), `${what}: the new file's bytes`);
  }
}

/** Runs one operation and checks it. */
export async function runOp(m: RunModel, r: RunReal, generated: Op): Promise<void> {
  m.step++;
  r.harness.stats.count('steps');
  const op = concrete(m, generated);
  const res = await send(m, r, op);
  r.harness.stats.count(`${op.op}:${res.status}`);
  await checkAnswer(m, r, op, predict(m, op), res, `step ${m.step}`);
}

// ---- what the server stores, against the model --------------------------------------------------------------------

interface Observed {
  name: string;
  version: string;
  size: number;
  sha256: string;
  modifiedAt: string;
  content: Buffer;
  lock: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: API rows, compared whole
  versions: any[];
  // biome-ignore lint/suspicious/noExplicitAny: API rows, compared whole
  rescued: any[];
}

async function observeFile(r: RunReal, m: RunModel, file: number): Promise<Observed> {
  const c = clientFor(m, r, { editor: 0, file });
  const id = encodeURIComponent((m.files[file] as FileModel).id);
  const [info, content, lock, versions, rescued] = await Promise.all([
    c.checkFileInfo(),
    c.getFile(),
    c.getLock(),
    r.harness.api(`/api/files/${id}/versions`),
    r.harness.api(`/api/files/${id}/rescued`),
  ]);
  for (const [what, res] of Object.entries({ info, content, lock, versions, rescued })) {
    assert.equal(res.status, 200, `${r.harness.name}: reading ${what} of file ${file}: ${res.status} ${res.text}`);
  }
  const flag = (x: { autosave?: boolean }) => (x.autosave === undefined ? {} : { autosave: x.autosave });
  return {
    name: info.json.BaseFileName,
    version: info.json.Version,
    size: info.json.Size,
    sha256: b64ToHex(info.json.SHA256),
    modifiedAt: info.json.LastModifiedTime,
    content: content.bytes,
    lock: lock.headers.get('x-wopi-lock'),
    // biome-ignore lint/suspicious/noExplicitAny: API rows
    versions: (versions.json as any[])
      .sort((a, b) => a.version - b.version)
      .map((v) => ({
        version: v.version,
        sha256: v.sha256,
        size: v.size,
        source: v.source,
        author: v.author.id,
        ...flag(v),
      })),
    // biome-ignore lint/suspicious/noExplicitAny: API rows
    rescued: (rescued.json as any[])
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        id: s.id,
        sha256: s.sha256,
        size: s.size,
        reason: s.reason,
        source: s.source,
        ...(s.lock !== undefined && { lock: s.lock }),
        author: s.author.id,
        ...flag(s),
      })),
  };
}

/** Where the stored file differs from the model's (empty when they agree). */
function differences(o: Observed, f: FileModel): string[] {
  const out: string[] = [];
  const h = head(f);
  if (o.name !== f.name) out.push(`name ${o.name} vs model ${f.name}`);
  if (o.version !== String(f.versions.length)) out.push(`Version ${o.version} vs model ${f.versions.length}`);
  if (o.size !== h.bytes.length || o.sha256 !== h.sha256) out.push('CheckFileInfo Size/SHA256 are not the head');
  if (!o.content.equals(h.bytes)) out.push('GetFile does not return the head');
  if (o.lock !== (f.lock ?? '')) out.push(`lock ${JSON.stringify(o.lock)} vs model ${JSON.stringify(f.lock)}`);
  if (f.modifiedAt !== undefined && o.modifiedAt !== f.modifiedAt) {
    out.push(`LastModifiedTime ${o.modifiedAt} vs ${f.modifiedAt}`);
  }
  const versions = f.versions.map((v, i) => ({
    version: i + 1,
    sha256: v.sha256,
    size: v.bytes.length,
    source: v.source,
    author: v.author,
    ...(v.autosave !== undefined && { autosave: v.autosave }),
  }));
  if (JSON.stringify(o.versions) !== JSON.stringify(versions)) {
    out.push(`version history ${JSON.stringify(o.versions)} vs model ${JSON.stringify(versions)}`);
  }
  const rescued = f.rescued.map((s) => ({
    sha256: s.sha256,
    size: s.bytes.length,
    reason: s.reason,
    source: s.source,
    ...(s.lock !== undefined && { lock: s.lock }),
    author: s.author,
    ...(s.autosave !== undefined && { autosave: s.autosave }),
  }));
  const seen = o.rescued.map(({ id: _, ...rest }) => rest);
  if (JSON.stringify(seen) !== JSON.stringify(rescued)) {
    out.push(`rescued saves ${JSON.stringify(seen)} vs model ${JSON.stringify(rescued)}`);
  }
  return out;
}

/**
 * The invariants, checked against what the server stores: every acknowledged save is in the history, in order, with
 * its bytes' SHA-256 (one version per save), every refused complete body is among the rescued saves, GetFile and
 * CheckFileInfo describe the head, the lock is the model's. With `deep`, every version's and rescued save's bytes are
 * downloaded and compared too.
 */
export async function audit(m: RunModel, r: RunReal, when: string, deep = false): Promise<void> {
  for (const [i, f] of m.files.entries()) {
    const o = await observeFile(r, m, i);
    const diff = differences(o, f);
    assert.deepEqual(diff, [], `${r.harness.name} ${when}: file ${i} differs from the model`);
    if (f.modifiedAt === undefined) f.modifiedAt = o.modifiedAt;
    if (!deep) continue;
    const id = encodeURIComponent(f.id);
    for (const [n, v] of f.versions.entries()) {
      const got = await r.harness.api(`/api/files/${id}/versions/${n + 1}/content`);
      assert.equal(got.status, 200, `${when}: version ${n + 1} of file ${i}`);
      assert.equal(sha256Hex(got.bytes), v.sha256, `${when}: the bytes of version ${n + 1} of file ${i}`);
    }
    for (const [n, s] of o.rescued.entries()) {
      const got = await r.harness.api(`/api/files/${id}/rescued/${s.id}/content`);
      assert.equal(got.status, 200, `${when}: rescued save ${s.id} of file ${i}`);
      assert.equal(sha256Hex(got.bytes), f.rescued[n]?.sha256, `${when}: the bytes of rescued save ${s.id}`);
    }
  }
  r.harness.stats.count(deep ? 'audits:deep' : 'audits');
}

/** Replaces the model's state with `next`'s (fast-check holds on to the model object itself). */
function adopt(m: RunModel, next: RunModel): void {
  m.files = next.files;
  m.copies = next.copies;
}

/**
 * SIGKILL, then a restart on the same data. With `during`, the operation is sent first and the kill comes `delayMs`
 * later: if its answer arrived it is checked as usual; if not, its outcome is unknown and the server must show either
 * the state before it or the state after it, nothing else (a save moved the version by exactly one, with the body it
 * sent, or not at all). Either way nothing acknowledged may be lost: the full audit follows every restart.
 */
export async function killAndRestart(m: RunModel, r: RunReal, during: Op | null, delayMs: number): Promise<void> {
  const { harness } = r;
  assert.ok(harness.kill && harness.restart, 'this harness cannot kill');
  m.step++;
  r.harness.stats.count('steps');
  m.kills++;
  if (during === null) {
    await harness.kill();
    await harness.restart();
    harness.stats.count('kill:between');
    await audit(m, r, `after kill ${m.kills} (between requests, step ${m.step})`);
    return;
  }
  const op = concrete(m, during);
  const pred = predict(m, op);
  const before = cloneRun(m);
  const after = cloneRun(m);
  pred.apply?.(after);
  const pending = send(m, r, op).then(
    (res) => ({ res }),
    (err: unknown) => ({ err }),
  );
  await sleep(delayMs);
  await harness.kill();
  const outcome = await withTimeout(pending, 15_000, 'the request sent as the server was killed to settle');
  await harness.restart();
  const what = `kill ${m.kills} during ${describeOp(op)} (step ${m.step}, after ${delayMs} ms)`;
  if ('res' in outcome) {
    // answered before the kill: the answer stands, and must have survived
    harness.stats.count(`kill:answered:${op.op}:${outcome.res.status}`);
    await checkAnswer(m, r, op, pred, outcome.res, `step ${m.step} (answered before kill ${m.kills})`);
  } else {
    const o = await observeFile(r, m, op.file);
    const asBefore = differences(o, before.files[op.file] as FileModel);
    const asAfter = differences(o, after.files[op.file] as FileModel);
    if (asBefore.length === 0) {
      harness.stats.count(`kill:unanswered:no-effect:${op.op}`);
    } else if (asAfter.length === 0) {
      harness.stats.count(`kill:unanswered:applied:${op.op}`);
      adopt(m, after);
    } else {
      assert.fail(
        `${harness.name} ${what}: the state is neither the one before nor the one after the operation\n` +
          `vs before: ${asBefore.join('; ')}\nvs after: ${asAfter.join('; ')}`,
      );
    }
    // a save the kill may have made has a time the model never heard
    (m.files[op.file] as FileModel).modifiedAt = o.modifiedAt;
  }
  await audit(m, r, `after ${what}`);
}

/**
 * Two operations sent at once (two editors racing). Quire must behave as if they ran one after the other, in some
 * order: both answers are those of one order, and the stored state is that order's. (Two refused saves may keep their
 * bodies in either order: a body is kept after the refusal is decided.)
 */
export async function race(m: RunModel, r: RunReal, a: Op, b: Op): Promise<void> {
  m.step++;
  r.harness.stats.count('steps');
  const ops = [concrete(m, a), concrete(m, b)] as const;
  const answers = await Promise.all(ops.map((op) => send(m, r, op)));
  const candidates: RunModel[] = [];
  const refusals: string[] = [];
  for (const order of [
    [0, 1],
    [1, 0],
  ]) {
    const mm = cloneRun(m);
    const rescuedBefore = mm.files.map((f) => f.rescued.length);
    try {
      for (const i of order) {
        const op = ops[i] as Op;
        await checkAnswer(
          mm,
          r,
          op,
          predict(mm, op),
          answers[i] as ReadResponse,
          `step ${m.step} (race, order ${order})`,
        );
      }
    } catch (err) {
      if (!(err instanceof AssertionError)) throw err;
      refusals.push(err.message);
      continue;
    }
    candidates.push(mm);
    // the same order, with two kept bodies of one file stored the other way round
    for (const [i, f] of mm.files.entries()) {
      const n = rescuedBefore[i] as number;
      if (f.rescued.length === n + 2) {
        const swapped = cloneRun(mm);
        const sf = swapped.files[i] as FileModel;
        sf.rescued = [...f.rescued.slice(0, n), f.rescued[n + 1], f.rescued[n]] as FileModel['rescued'];
        candidates.push(swapped);
      }
    }
  }
  const label = `${r.harness.name} step ${m.step} race(${ops.map(describeOp).join(' || ')})`;
  assert.ok(candidates.length > 0, `${label}: the answers fit neither order:\n${refusals.join('\n')}`);
  for (const [i, op] of ops.entries()) r.harness.stats.count(`race:${op.op}:${answers[i]?.status}`);
  const files = [...new Set(ops.map((op) => op.file))];
  const observed = await Promise.all(files.map((file) => observeFile(r, m, file)));
  const mismatches: string[] = [];
  for (const cand of candidates) {
    const diff = files.flatMap((file, k) => differences(observed[k] as Observed, cand.files[file] as FileModel));
    if (diff.length === 0) {
      adopt(m, cand);
      return;
    }
    mismatches.push(diff.join('; '));
  }
  assert.fail(`${label}: the stored state fits no order the answers allow:\n${mismatches.join('\n')}`);
}

/** Moves the server's clock and the model's; every file's lock must then be the model's (expired, released or not). */
export async function advance(m: RunModel, r: RunReal, ms: number): Promise<void> {
  m.step++;
  r.harness.stats.count('steps');
  const clock = r.harness.clock;
  assert.ok(clock && m.clock, 'this harness has no clock to move');
  for (const outcome of advanceClock(m, ms)) r.harness.stats.count(`advance:lock-${outcome}`);
  await clock.advance(ms);
  assert.equal(clock.now(), m.clock.now, 'the server clock and the model clock agree');
  for (const [i, f] of m.files.entries()) {
    const res = await clientFor(m, r, { editor: 0, file: i }).getLock();
    assert.equal(
      res.headers.get('x-wopi-lock'),
      f.lock ?? '',
      `${r.harness.name} step ${m.step} advance(${ms / 60_000} min): the lock of file ${i}`,
    );
  }
}

// ---- fast-check ---------------------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<RunModel, RunReal>;

class OpCommand implements Cmd {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  run(m: RunModel, r: RunReal): Promise<void> {
    return runOp(m, r, this.op);
  }
  toString(): string {
    return describeOp(this.op);
  }
}

class RaceCommand implements Cmd {
  constructor(
    readonly a: Op,
    readonly b: Op,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: RunModel, r: RunReal): Promise<void> {
    return race(m, r, this.a, this.b);
  }
  toString(): string {
    return `race(${describeOp(this.a)} || ${describeOp(this.b)})`;
  }
}

class AdvanceCommand implements Cmd {
  constructor(readonly ms: number) {}
  check(m: Readonly<RunModel>): boolean {
    return m.clock !== undefined;
  }
  run(m: RunModel, r: RunReal): Promise<void> {
    return advance(m, r, this.ms);
  }
  toString(): string {
    return `advance(${this.ms / 60_000} min)`;
  }
}

class KillCommand implements Cmd {
  constructor(
    readonly during: Op | null,
    readonly delayMs: number,
  ) {}
  check(m: Readonly<RunModel>): boolean {
    return m.kills < m.maxKills;
  }
  run(m: RunModel, r: RunReal): Promise<void> {
    return killAndRestart(m, r, this.during, this.delayMs);
  }
  toString(): string {
    return this.during === null ? 'kill()' : `kill(during ${describeOp(this.during)}, after ${this.delayMs} ms)`;
  }
}

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const own = (n: 0 | 1): LockRef => ({ kind: 'own', n });
/** A lock reference, drawn with the given weights (tenths allowed). */
const ref = (weights: Partial<Record<'own0' | 'own1' | 'held' | 'stale' | 'none' | 'malformed', number>>) =>
  fc.oneof(
    ...Object.entries(weights).map(([k, weight]) =>
      w(
        Math.round((weight as number) * 10),
        k === 'malformed'
          ? fc.constantFrom<LockRef>({ kind: 'malformed', how: 'tab' }, { kind: 'malformed', how: 'long' })
          : fc.constant<LockRef>(k === 'own0' ? own(0) : k === 'own1' ? own(1) : ({ kind: k } as LockRef)),
      ),
    ),
  );

/** Small bodies, sometimes empty (an empty body saves an empty file, and a refused one is not kept). */
export const bodyArb = fc.oneof(
  w(1, fc.constant(new Uint8Array(0))),
  w(6, fc.uint8Array({ minLength: 1, maxLength: 48 })),
);

/** Deterministic noise: `size` bytes from `seed` (xorshift32), so a big body costs no generated array. */
function noise(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}

/** Bodies of 256 KiB to 2 MiB: a save long enough for a kill to land in the middle of it. */
const bigBodyArb = fc
  .record({ size: fc.integer({ min: 256 * 1024, max: 2 * 1024 * 1024 }), seed: fc.nat() })
  .map(({ size, seed }) => noise(size, seed));

const target = { editor: fc.integer({ min: 0, max: EDITORS.length - 1 }), file: fc.integer({ min: 0, max: 1 }) };

/** Operations that change something: what a kill can interrupt. */
const changingOpArb: fc.Arbitrary<Op> = fc.oneof(
  w(
    6,
    fc.record({
      ...target,
      op: fc.constant('putFile' as const),
      body: bodyArb,
      lock: ref({ held: 6, own0: 1, stale: 1, none: 2, malformed: 0.3 }),
      size: fc.oneof(
        w(6, fc.constant('none' as const)),
        w(2, fc.constant('right' as const)),
        w(1, fc.constant('wrong' as const)),
      ),
      stamp: fc.oneof(
        w(6, fc.constant('none' as const)),
        w(2, fc.constant('current' as const)),
        w(1, fc.constant('stale' as const)),
      ),
      autosave: fc.option(fc.boolean(), { nil: undefined, freq: 2 }),
    }),
  ),
  w(
    4,
    fc.record({
      ...target,
      op: fc.constant('lock' as const),
      lock: ref({ own0: 4, own1: 1, held: 2, none: 0.3, malformed: 0.3 }),
    }),
  ),
  w(
    2,
    fc.record({
      ...target,
      op: fc.constant('relock' as const),
      old: ref({ held: 4, own0: 1, own1: 1, stale: 1, malformed: 0.2 }),
      lock: ref({ own0: 1, own1: 2, malformed: 0.2 }),
    }),
  ),
  w(
    1,
    fc.record({
      ...target,
      op: fc.constant('unlock' as const),
      lock: ref({ held: 5, own0: 1, stale: 1, none: 0.3, malformed: 0.3 }),
    }),
  ),
  w(
    1,
    fc.record({ ...target, op: fc.constant('refresh' as const), lock: ref({ held: 4, own1: 1, stale: 1, none: 0.3 }) }),
  ),
);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  w(14, changingOpArb),
  w(1, fc.record({ ...target, op: fc.constant('getLock' as const) })),
  w(
    1,
    fc.record({
      ...target,
      op: fc.constant('getFile' as const),
      max: fc.constantFrom<'none' | 'head' | 'below'>('none', 'none', 'head', 'below'),
    }),
  ),
  w(1, fc.record({ ...target, op: fc.constant('checkFileInfo' as const) })),
  w(
    1,
    fc.record({
      ...target,
      op: fc.constant('rename' as const),
      name: fc.nat(9),
      lock: ref({ held: 3, own0: 1, stale: 1, none: 2 }),
    }),
  ),
  w(
    1,
    fc.record({
      ...target,
      op: fc.constant('putRelative' as const),
      body: bodyArb,
      lock: ref({ held: 2, stale: 1, none: 2 }),
    }),
  ),
);

/**
 * The commands of a run, out of 15: WOPI operations, races of two (`raceWeight`), moving the clock (`advanceWeight`,
 * in process) and kills (`killWeight`, the process harness). The clock moves by whole minutes, onto and past the
 * lock expiry (30 minutes) and the idle release (20 minutes).
 */
export function commandArb(raceWeight: number, killWeight: number, advanceWeight = 0): fc.Arbitrary<Cmd> {
  const ops = opArb.map((op): Cmd => new OpCommand(op));
  const races = fc.tuple(opArb, opArb).map(([a, b]): Cmd => new RaceCommand(a, b));
  const bigPut = fc.record({
    ...target,
    op: fc.constant('putFile' as const),
    body: bigBodyArb,
    lock: ref({ held: 4, stale: 1, none: 1 }),
    size: fc.constantFrom<SizeHeader>('none', 'right'),
    stamp: fc.constant('none' as const),
    autosave: fc.constant(undefined),
  });
  const kills = fc
    .tuple(fc.oneof(w(2, fc.constant(null)), w(4, changingOpArb), w(2, bigPut)), fc.integer({ min: 0, max: 30 }))
    .map(([during, delayMs]): Cmd => new KillCommand(during, delayMs));
  const advances = fc
    .constantFrom(1, 10, 19, 20, 21, 29, 30, 31)
    .map((minutes): Cmd => new AdvanceCommand(minutes * 60_000));
  return fc.oneof(
    w(15 - raceWeight - killWeight - advanceWeight, ops),
    ...(raceWeight > 0 ? [w(raceWeight, races)] : []),
    ...(killWeight > 0 ? [w(killWeight, kills)] : []),
    ...(advanceWeight > 0 ? [w(advanceWeight, advances)] : []),
  );
}

/** The first versions of a run's two files: empty or a few bytes each. */
export const initialArb = fc.tuple(bodyArb, bodyArb);
