// What every section hands back: detail tables for its own part of the output and the few headline figures
// that go into the final summary, each checked against its goal (a goal, never an assertion).

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  /** What the figures mean, printed under the table. */
  notes?: string[];
}

export type Verdict = 'met' | 'short' | 'info' | 'skipped';

export interface Headline {
  section: string;
  metric: string;
  /** Already formatted: ours, the peer, and the comparison. */
  ours: string;
  peer: string;
  comparison: string;
  goal: string;
  verdict: Verdict;
  /** When short: by how much, in words ("2.1x instead of 3x: 30% short"). */
  shortfall?: string;
}

export interface SectionResult {
  name: string;
  tables: Table[];
  headlines: Headline[];
  /** Reasons parts were skipped (missing SDK, missing client...). */
  skipped: string[];
}

/** "2.40x against a goal of 3x: 20% short". */
export function shortfallText(achieved: number, goal: number, unit = 'x', higherIsBetter = true): string {
  const gap = higherIsBetter ? 1 - achieved / goal : achieved / goal - 1;
  const shown = unit === 'x' ? `${achieved.toFixed(2)}x` : `${achieved.toFixed(unit === ' KB' ? 2 : 0)}${unit}`;
  const goalShown = unit === 'x' ? `${goal}x` : `${goal}${unit}`;
  return `${shown} against a goal of ${goalShown}: ${(gap * 100).toFixed(0)}% ${higherIsBetter ? 'short' : 'over'}`;
}

export function verdictFor(achieved: number, goal: number, higherIsBetter: boolean): Verdict {
  if (!Number.isFinite(achieved)) return 'skipped';
  return (higherIsBetter ? achieved >= goal : achieved <= goal) ? 'met' : 'short';
}
