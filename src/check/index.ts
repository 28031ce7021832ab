/**
 * `quire check`: a WOPI conformance check of any host, over HTTP only. It imports nothing of Quire's server (no
 * storage, no web framework): the header names and the UTF-7 name codec of wopi/ are all it shares.
 */
export { formatJson, formatResult, formatSummary } from './report.ts';
export { CheckAbortedError, type CheckReport, passed, type RuleResult, runCheck } from './run.ts';
