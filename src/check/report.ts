import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange, SentRequest } from './http.ts';
import { type CheckReport, type CleanupStep, passed, type RuleResult } from './run.ts';

/**
 * The check's output: one line per rule (PASS / FAIL / SKIP), a failure's request and response indented under it,
 * then a summary; or the same as JSON. Access tokens never appear: the ones the check knows are replaced wherever
 * they are, and any access_token value in a URL or JSON is taken out as well.
 */

const REDACTED = '[redacted]';
const BODY_EXCERPT_CHARS = 300;

/** `text` without the known tokens and without access_token values. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out = out.split(secret).join(REDACTED).split(encodeURIComponent(secret)).join(REDACTED);
  }
  return out
    .replace(/(access_token=)[^&#\s"'<>]*/gi, `$1${REDACTED}`)
    .replace(/("access_token"\s*:\s*")[^"]*/gi, `$1${REDACTED}`);
}

/** The response headers worth showing: WOPI's own, and what says what the body is. */
function relevantHeaders(headers: IncomingHttpHeaders): Array<[string, string]> {
  return Object.entries(headers)
    .filter(([name]) => name.startsWith('x-wopi-') || name === 'content-type' || name === 'content-length')
    .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value ?? '')]);
}

/** A body as a short, printable excerpt, or its size when it is not text. */
function bodyExcerpt(body: Buffer): string {
  if (body.length === 0) return '(empty)';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return `(${body.length} bytes, not text)`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is not shown
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return `(${body.length} bytes, not text)`;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}… (${body.length} bytes)` : flat;
}

interface RequestView {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

interface ResponseView {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
}

const requestView = (r: SentRequest): RequestView => ({
  method: r.method,
  url: r.url,
  headers: r.headers,
  bodyBytes: r.body.length,
});

const responseView = (ex: Exchange): ResponseView => ({
  status: ex.response.status,
  statusText: ex.response.statusText,
  headers: Object.fromEntries(relevantHeaders(ex.response.headers)),
  body: bodyExcerpt(ex.response.body),
});

function exchangeLines(request: RequestView, response: ResponseView | undefined): string[] {
  const lines = [`> ${request.method} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`> ${name}: ${value}`);
  if (request.bodyBytes > 0) lines.push(`> (body: ${request.bodyBytes} bytes)`);
  if (!response) return [...lines, '< (no answer)'];
  lines.push(`< ${response.status} ${response.statusText}`.trimEnd());
  for (const [name, value] of Object.entries(response.headers)) lines.push(`< ${name}: ${value}`);
  lines.push(`< body: ${response.body}`);
  return lines;
}

/** One rule's line, and under a failure what was sent and what came back. */
export function formatResult(result: RuleResult, secrets: readonly string[]): string {
  const lines = [`${result.verdict} ${result.id} — ${result.statement} [${result.source}]`];
  if (result.reason) lines.push(`    ${result.verdict === 'SKIP' ? 'skipped' : 'failed'}: ${result.reason}`);
  if (result.verdict === 'FAIL') {
    const request = result.exchange?.request ?? result.request;
    if (request) {
      const response = result.exchange && responseView(result.exchange);
      for (const line of exchangeLines(requestView(request), response)) lines.push(`      ${line}`);
    }
  }
  return scrub(lines.join('\n'), secrets);
}

function cleanupLine(step: CleanupStep): string {
  const mark = step.ok ? 'done' : step.warningOnly ? 'WARN' : 'FAIL';
  return `  ${mark}: ${step.what}`;
}

const count = (report: CheckReport, verdict: RuleResult['verdict']) =>
  report.results.filter((r) => r.verdict === verdict).length;

/** What follows the rules' lines: what was put back, and the counts. */
export function formatSummary(report: CheckReport): string {
  const lines: string[] = [''];
  if (report.cleanup.length > 0) {
    lines.push('Cleanup:');
    for (const step of report.cleanup) {
      lines.push(cleanupLine(step));
      if (step.exchange && !step.ok) {
        for (const line of exchangeLines(requestView(step.exchange.request), responseView(step.exchange)))
          lines.push(`      ${line}`);
      }
    }
  } else {
    lines.push('Cleanup: nothing to put back.');
  }
  const failedCleanup = report.cleanup.filter((s) => !s.ok && !s.warningOnly).length;
  lines.push(
    `${report.results.length} rules: ${count(report, 'PASS')} passed, ${count(report, 'FAIL')} failed, ${count(report, 'SKIP')} skipped` +
      (failedCleanup ? `; ${failedCleanup} cleanup step${failedCleanup === 1 ? '' : 's'} failed` : ''),
  );
  return scrub(lines.join('\n'), report.secrets);
}

/** The whole report as JSON, for scripts. */
export function formatJson(report: CheckReport): string {
  const exchangeJson = (exchange: Exchange | undefined, request: SentRequest | undefined) => {
    const sent = exchange?.request ?? request;
    return sent ? { request: requestView(sent), response: exchange ? responseView(exchange) : null } : undefined;
  };
  const json = {
    wopiSrc: report.wopiSrc,
    passed: passed(report),
    summary: {
      rules: report.results.length,
      passed: count(report, 'PASS'),
      failed: count(report, 'FAIL'),
      skipped: count(report, 'SKIP'),
    },
    rules: report.results.map((r) => ({
      id: r.id,
      verdict: r.verdict,
      statement: r.statement,
      source: r.source,
      ...(r.reason && { reason: r.reason }),
      ...(r.verdict === 'FAIL' && { exchange: exchangeJson(r.exchange, r.request) }),
    })),
    cleanup: report.cleanup.map((s) => ({
      what: s.what,
      ok: s.ok,
      ...(s.warningOnly && { warningOnly: true }),
      ...(s.exchange && !s.ok && { exchange: exchangeJson(s.exchange, undefined) }),
    })),
  };
  return scrub(JSON.stringify(json, null, 2), report.secrets);
}
