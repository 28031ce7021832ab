import { randomBytes } from 'node:crypto';
import { QuireError } from '../core/errors.ts';
import { type FileHandle, WopiCalls } from './client.ts';
import { RuleFailure, SkipRule } from './expect.ts';
import { type Exchange, HttpSender, type SentRequest, TransportError } from './http.ts';
import { CheckContext, missingNeed, type Rule, splitName } from './rule.ts';
import { RULES } from './rules/index.ts';

/**
 * Runs the rules against one file of a host: reads the file first (the check does not touch a file it could not
 * put back), runs each rule, releases the locks each rule took, and at the end deletes the files it made, gives the
 * file its name back and puts its original bytes back under a lock of its own.
 */

export type Verdict = 'PASS' | 'FAIL' | 'SKIP';

export interface RuleResult {
  id: string;
  statement: string;
  source: string;
  verdict: Verdict;
  /** Why it failed or was skipped. */
  reason?: string;
  /** The exchange that showed the failure. */
  exchange?: Exchange;
  /** The request that got no answer at all. */
  request?: SentRequest;
}

/** One step of putting things back; a step that did not work fails the check unless it is only a warning. */
export interface CleanupStep {
  what: string;
  ok: boolean;
  /** Something the host does not promise (DeleteFile when it does not say SupportsDeleteFile): reported only. */
  warningOnly?: boolean;
  exchange?: Exchange;
}

export interface CheckReport {
  wopiSrc: string;
  results: RuleResult[];
  cleanup: CleanupStep[];
  /** Tokens to keep out of anything printed: the one given and those the host handed out. */
  secrets: string[];
}

export interface CheckOptions {
  wopiSrc: string;
  token: string;
  /** Per request (the whole exchange). */
  timeoutMs: number;
  /** Called as each rule ends, for output while the check runs; `secrets` are the tokens known so far. */
  onResult?: (result: RuleResult, secrets: readonly string[]) => void;
  rules?: readonly Rule[];
}

/** The check could not start: the host did not answer, or refused the file or token. Nothing was changed. */
export class CheckAbortedError extends QuireError {
  override name = 'CheckAbortedError';
  constructor(reason: string) {
    super(502, reason);
  }
}

/** The last part of a failing answer, for an abort message (bodies of refusals are short reasons). */
const excerpt = (ex: Exchange) => {
  const text = ex.response.body.toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
};

async function preflight(
  calls: WopiCalls,
  file: FileHandle,
): Promise<{ info: Record<string, unknown>; original: Buffer }> {
  const ask = async (what: string, send: () => Promise<Exchange>) => {
    try {
      return await send();
    } catch (err) {
      if (err instanceof TransportError) throw new CheckAbortedError(`${what} failed: ${err.message}`);
      throw err;
    }
  };
  const infoEx = await ask('CheckFileInfo', () => calls.checkFileInfo(file));
  if (infoEx.response.status !== 200) {
    throw new CheckAbortedError(
      `CheckFileInfo answered ${infoEx.response.status} ${infoEx.response.statusText} (is the WOPISRC right, and the token valid for it?)${excerpt(infoEx)}`,
    );
  }
  let info: unknown;
  try {
    info = JSON.parse(infoEx.response.body.toString('utf8'));
  } catch {
    throw new CheckAbortedError('CheckFileInfo answered 200 without a JSON body: is the WOPISRC a WOPI file URL?');
  }
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw new CheckAbortedError('CheckFileInfo answered 200 with JSON that is not an object');
  }
  const fileEx = await ask('GetFile', () => calls.getFile(file));
  if (fileEx.response.status !== 200) {
    throw new CheckAbortedError(
      `GetFile answered ${fileEx.response.status}: the check reads the file first so that it can put it back, and changes nothing it cannot restore${excerpt(fileEx)}`,
    );
  }
  return { info: info as Record<string, unknown>, original: fileEx.response.body };
}

async function runRule(rule: Rule, ctx: CheckContext): Promise<RuleResult> {
  const base = { id: rule.id, statement: rule.statement, source: rule.source };
  const missing = rule.needs.map((need) => missingNeed(need, ctx.info)).find((why) => why !== null);
  if (missing) return { ...base, verdict: 'SKIP', reason: missing };
  try {
    await rule.run(ctx);
    return { ...base, verdict: 'PASS' };
  } catch (err) {
    if (err instanceof SkipRule) return { ...base, verdict: 'SKIP', reason: err.message };
    if (err instanceof RuleFailure) {
      return { ...base, verdict: 'FAIL', reason: err.message, ...(err.exchange && { exchange: err.exchange }) };
    }
    if (err instanceof TransportError) {
      return { ...base, verdict: 'FAIL', reason: `no answer: ${err.message}`, request: err.request };
    }
    return { ...base, verdict: 'FAIL', reason: `the check could not run this rule: ${(err as Error).message}` };
  } finally {
    await releaseLocks(ctx);
  }
}

/** Unlocks whatever the rule may have locked, newest first; refusals are expected (most locks are gone already). */
async function releaseLocks(ctx: CheckContext): Promise<void> {
  for (const { file, lock } of ctx.heldLocks.splice(0).reverse()) {
    await ctx.calls.unlock(file, lock).catch(() => undefined);
  }
}

/** Answers the way a cleanup step records them: the exchange, or what went wrong on the way. */
async function attempt(send: () => Promise<Exchange>): Promise<Exchange | string> {
  try {
    return await send();
  } catch (err) {
    return err instanceof TransportError ? `no answer: ${err.message}` : (err as Error).message;
  }
}

const statusOf = (r: Exchange | string) => (typeof r === 'string' ? r : `${r.response.status}`);

async function deleteCreated(ctx: CheckContext, steps: CleanupStep[]): Promise<void> {
  const seen = new Set<string>();
  const promised = ctx.info.SupportsDeleteFile === true;
  for (const { file, name } of ctx.created) {
    if (seen.has(file.wopiSrc)) continue;
    seen.add(file.wopiSrc);
    const r = await attempt(() => ctx.calls.deleteFile(file));
    const ok = typeof r !== 'string' && (r.response.status === 200 || r.response.status === 404);
    steps.push({
      what: ok
        ? `deleted ${JSON.stringify(name)}`
        : `could not delete ${JSON.stringify(name)} (DeleteFile: ${statusOf(r)})`,
      ok,
      ...(!promised && { warningOnly: true }),
      ...(typeof r !== 'string' && !ok && { exchange: r }),
    });
  }
}

async function restoreName(ctx: CheckContext, steps: CleanupStep[]): Promise<void> {
  const original = ctx.info.BaseFileName;
  if (typeof original !== 'string') return;
  const now = await attempt(() => ctx.calls.checkFileInfo(ctx.file));
  const current = typeof now === 'string' ? undefined : safeJson(now)?.BaseFileName;
  if (current === original) return;
  const r = await attempt(() => ctx.calls.renameFile(ctx.file, splitName(original).base));
  const after = await attempt(() => ctx.calls.checkFileInfo(ctx.file));
  const ok = typeof after !== 'string' && safeJson(after)?.BaseFileName === original;
  steps.push({
    what: ok
      ? `renamed the file back to ${JSON.stringify(original)}`
      : `could not rename the file back to ${JSON.stringify(original)} (RenameFile: ${statusOf(r)})`,
    ok,
    ...(typeof r !== 'string' && !ok && { exchange: r }),
  });
}

function safeJson(ex: Exchange): Record<string, unknown> | undefined {
  try {
    return JSON.parse(ex.response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function restoreContent(ctx: CheckContext, steps: CleanupStep[]): Promise<void> {
  const sameAsOriginal = async () => {
    const r = await attempt(() => ctx.calls.getFile(ctx.file));
    return typeof r !== 'string' && r.response.status === 200 && r.response.body.equals(ctx.original);
  };
  if (await sameAsOriginal()) return;
  const bytes = `${ctx.original.length} bytes`;
  let put: Exchange | string;
  if (ctx.info.SupportsLocks === true) {
    const lock = ctx.unique('restore-lock');
    await attempt(() => ctx.calls.lock(ctx.file, lock));
    put = await attempt(() => ctx.calls.putFile(ctx.file, ctx.original, lock));
    await attempt(() => ctx.calls.unlock(ctx.file, lock));
  } else {
    put = await attempt(() => ctx.calls.putFile(ctx.file, ctx.original));
  }
  const ok = await sameAsOriginal();
  steps.push({
    what: ok
      ? `put the original content back (${bytes})`
      : `could not put the original content back (${bytes}; PutFile: ${statusOf(put)})`,
    ok,
    ...(typeof put !== 'string' && !ok && { exchange: put }),
  });
}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const http = new HttpSender(options.timeoutMs);
  try {
    const calls = new WopiCalls(http);
    const file: FileHandle = { wopiSrc: options.wopiSrc, token: options.token };
    const { info, original } = await preflight(calls, file);
    const ctx = new CheckContext(calls, file, info, original, randomBytes(4).toString('hex'));
    const results: RuleResult[] = [];
    for (const rule of options.rules ?? RULES) {
      const result = await runRule(rule, ctx);
      results.push(result);
      options.onResult?.(result, [...ctx.secrets]);
    }
    const cleanup: CleanupStep[] = [];
    await deleteCreated(ctx, cleanup);
    await restoreName(ctx, cleanup);
    await restoreContent(ctx, cleanup);
    return { wopiSrc: options.wopiSrc, results, cleanup, secrets: [...ctx.secrets] };
  } finally {
    http.close();
  }
}

/** Whether the check passed: no rule failed and everything was put back. */
export const passed = (report: CheckReport): boolean =>
  report.results.every((r) => r.verdict !== 'FAIL') && report.cleanup.every((s) => s.ok || s.warningOnly);
