// Summaries of repeated runs. Benchmarks report the median (robust to one noisy run on a shared machine) with
// min and max, so a reader sees the spread instead of a single lucky number.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** ours / peer for "more is better" figures, peer / ours for "less is better" ones. */
export function ratio(ours: number, peer: number, better: 'higher' | 'lower'): number {
  if (!(ours > 0) || !(peer > 0)) return Number.NaN;
  return better === 'higher' ? ours / peer : peer / ours;
}

export function geometricMean(values: readonly number[]): number {
  const usable = values.filter((v) => v > 0 && Number.isFinite(v));
  if (usable.length === 0) return Number.NaN;
  return Math.exp(usable.reduce((sum, v) => sum + Math.log(v), 0) / usable.length);
}
