import { H } from '../wopi/headers.ts';
import type { Exchange } from './http.ts';

/**
 * How a rule says "no": a RuleFailure names what was expected and carries the exchange that showed otherwise, so
 * the report can print the request and the response. These are verdicts on the host, not errors of the check.
 */
export class RuleFailure extends Error {
  override name = 'RuleFailure';
  constructor(
    message: string,
    readonly exchange?: Exchange,
  ) {
    super(message);
  }
}

/** Thrown by a rule that finds, only once it asks, that there is nothing to check (an optional header not sent). */
export class SkipRule extends Error {
  override name = 'SkipRule';
}

/** A response header's value as one string (undefined when absent); names are matched case-insensitively. */
export function header(ex: Exchange, name: string): string | undefined {
  const value = ex.response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The status must be one of `wanted`; `what` names the step ("PutFile without a lock"). */
export function expectStatus(ex: Exchange, wanted: number | readonly number[], what: string): void {
  const allowed = typeof wanted === 'number' ? [wanted] : wanted;
  if (!allowed.includes(ex.response.status)) {
    throw new RuleFailure(`${what}: expected ${allowed.join(' or ')}, got ${ex.response.status}`, ex);
  }
}

/** A setup step the rule builds on (Lock, a PutFile to prepare content …) must succeed with 200. */
export function expectSetup(ex: Exchange, what: string): void {
  if (ex.response.status !== 200) {
    throw new RuleFailure(`setup step failed, ${what}: expected 200, got ${ex.response.status}`, ex);
  }
}

/** A lock refusal: 409 carrying X-WOPI-Lock with the file's current lock ("" when it is unlocked). */
export function expectLockConflict(ex: Exchange, currentLock: string, what: string): void {
  expectStatus(ex, 409, what);
  const sent = header(ex, H.lock);
  if (sent === undefined) {
    throw new RuleFailure(`${what}: the 409 carries no ${H.lock} header (expected ${JSON.stringify(currentLock)})`, ex);
  }
  if (sent !== currentLock) {
    throw new RuleFailure(
      `${what}: ${H.lock} is ${JSON.stringify(sent)}, expected the current lock ${JSON.stringify(currentLock)}`,
      ex,
    );
  }
}

/** The body as a JSON object, or a failure saying it is not one. */
export function jsonBody(ex: Exchange, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ex.response.body.toString('utf8'));
  } catch {
    throw new RuleFailure(`${what}: the body is not JSON`, ex);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RuleFailure(`${what}: the body is not a JSON object`, ex);
  }
  return parsed as Record<string, unknown>;
}

/** The body must be exactly `bytes` (what the check wrote, or what the file held). */
export function expectContent(ex: Exchange, bytes: Buffer, what: string): void {
  expectStatus(ex, 200, what);
  if (!ex.response.body.equals(bytes)) {
    throw new RuleFailure(
      `${what}: the file holds ${ex.response.body.length} bytes that differ from the ${bytes.length} expected`,
      ex,
    );
  }
}

export function ensure(condition: boolean, message: string, ex?: Exchange): asserts condition {
  if (!condition) throw new RuleFailure(message, ex);
}
