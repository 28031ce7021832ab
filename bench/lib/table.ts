/** The one table every benchmark adds its rows to, printed as Markdown (so it can go into bench/README.md as is). */

export type Result = 'PASS' | 'SHORT' | 'info' | 'FAILED';

export interface Row {
  backend: string;
  /** the same measurement on every backend has the same key (for the PostgreSQL/SQLite column) */
  key: string;
  path: string;
  quire: string;
  baseline: string;
  ratio?: number;
  target: string;
  result: Result;
  /** Quire's headline figure, compared across backends */
  value?: number;
}

export const rows: Row[] = [];

export const atLeast = (ratio: number, min: number): Result => (ratio >= min ? 'PASS' : 'SHORT');
export const atMost = (value: number, max: number): Result => (value <= max ? 'PASS' : 'SHORT');

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
export const reqs = (rps: number) => `${thousands(rps)} req/s`;
export const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
/** decimal megabytes (10^6 bytes), as the targets are written */
export const mbps = (bytesPerSecond: number) => `${thousands(bytesPerSecond / 1e6)} MB/s`;
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
export const count = thousands;

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function render(list: Row[]): string {
  const sqlite = new Map(list.filter((r) => r.backend === 'SQLite').map((r) => [r.key, r]));
  const showBackendRatio = list.some((r) => r.backend !== 'SQLite');
  const header = ['path', 'Quire', 'baseline (same run)', 'ratio', 'target', 'result'];
  if (showBackendRatio) header.push('PostgreSQL / SQLite');
  const lines = [header, header.map(() => '---')];
  for (const r of list) {
    const line = [
      `${r.backend}: ${r.path}`,
      r.quire,
      r.baseline,
      r.ratio === undefined ? '—' : r.ratio.toFixed(2),
      r.target,
      r.result,
    ];
    if (showBackendRatio) {
      const base = r.backend === 'SQLite' ? undefined : sqlite.get(r.key);
      line.push(
        base?.value && r.value !== undefined && r.result !== 'FAILED' && base.result !== 'FAILED'
          ? (r.value / base.value).toFixed(2)
          : '',
      );
    }
    lines.push(line.map(cell));
  }
  // columns padded to their widest cell, as Markdown formatters (biome) lay tables out
  const widths = header.map((_, c) => Math.max(3, ...lines.map((l) => (l[c] ?? '').length)));
  lines[1] = widths.map((w) => '-'.repeat(w));
  return lines.map((l) => `| ${l.map((text, c) => text.padEnd(widths[c] ?? 0)).join(' | ')} |`).join('\n');
}
