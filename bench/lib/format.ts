// Text tables and number formats for the console output (and the same text pasted into BENCHMARKS.md).

import type { Summary } from './stats';

export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e8 ? 0 : 2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e6 ? 0 : 1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(1);
  return value.toFixed(3);
}

export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${Math.round(value).toLocaleString('en-US')} B`;
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

/** `median (min..max)` with the given number format. */
export function formatSummary(summary: Summary, format: (value: number) => string = formatCount): string {
  if (summary.runs === 0) return 'n/a';
  if (summary.runs === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}..${format(summary.max)})`;
}

/** A figure column is right-aligned: every cell empty or starting like a number ("1.2k", "3.00x", "n/a"). */
function isFigureColumn(rows: readonly (readonly string[])[], column: number): boolean {
  return rows.every((r) => {
    const cell = r[column] ?? '';
    return cell === '' || cell === 'n/a' || cell === 'skipped' || /^[-+]?[\d.,]+/.test(cell);
  });
}

/** A plain-text table in Markdown pipe syntax, so the console output pastes straight into BENCHMARKS.md. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const right = header.map((_, i) => i > 0 && isFigureColumn(rows, i));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? ` ${'-'.repeat(w - 1)}: ` : ` ${'-'.repeat(w)} `)).join('|')}|`;
  return [line(header), rule, ...rows.map((r) => line(header.map((_, i) => r[i] ?? '')))].join('\n');
}
