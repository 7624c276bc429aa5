// Throughput of synchronous functions, ours and a peer's measured in alternating runs: on a shared 2-core
// machine load comes and goes, and interleaving makes both sides see the same weather.

import { summarize, type Summary } from './stats';

/** Runs the operation `iterations` times and returns something derived from the results (kept, so the JIT cannot drop the work). */
export type Batch = (iterations: number) => number;

export interface MeasureOptions {
  /** Time spent warming each contender up (JIT tiers, inline caches) before any run counts. */
  warmupMs: number;
  /** Length of one counted run. */
  runMs: number;
  /** Counted runs per contender. */
  runs: number;
}

export interface Contender {
  name: string;
  batch: Batch;
}

export interface Measured {
  name: string;
  opsPerSecond: Summary;
}

let sink = 0;

/** Keeps batch results observable; returns the running checksum (printed nowhere, used nowhere). */
export function consume(value: number): number {
  sink = (sink + value) | 0;
  return sink;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Iterations that take about `targetMs`, found by doubling. */
function calibrate(batch: Batch, targetMs: number): number {
  let iterations = 1;
  for (;;) {
    const start = nowMs();
    consume(batch(iterations));
    const elapsed = nowMs() - start;
    if (elapsed >= targetMs / 4 || iterations >= 1 << 26) {
      return Math.max(1, Math.round((iterations * targetMs) / Math.max(elapsed, 0.001)));
    }
    iterations *= 2;
  }
}

function timeFor(batch: Batch, durationMs: number, iterations: number): number {
  let done = 0;
  const start = nowMs();
  let elapsed = 0;
  do {
    consume(batch(iterations));
    done += iterations;
    elapsed = nowMs() - start;
  } while (elapsed < durationMs);
  return (done * 1000) / elapsed;
}

/** Warms every contender up, then measures them in turn, `runs` rounds, in alternating order. */
export function measureInterleaved(contenders: readonly Contender[], options: MeasureOptions): Measured[] {
  const slices = contenders.map((c) => {
    const iterations = calibrate(c.batch, Math.max(1, options.runMs / 10));
    timeFor(c.batch, options.warmupMs, iterations);
    return iterations;
  });
  const samples: number[][] = contenders.map(() => []);
  for (let round = 0; round < options.runs; round++) {
    const order = round % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    for (const i of order) samples[i].push(timeFor(contenders[i].batch, options.runMs, slices[i]));
  }
  return contenders.map((c, i) => ({ name: c.name, opsPerSecond: summarize(samples[i]) }));
}
