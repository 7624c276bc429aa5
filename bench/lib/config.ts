// Benchmark settings. `full` is what `npm run bench` runs and BENCHMARKS.md quotes; `smoke` runs every entry
// point for a few iterations so tests can check the benchmarks still work without timing anything.

export type SectionName = 'codec' | 'e2e' | 'xs' | 'footprint';
export const ALL_SECTIONS: readonly SectionName[] = ['codec', 'e2e', 'xs', 'footprint'];

export interface BenchConfig {
  profile: 'full' | 'smoke';
  seed: number;
  sections: SectionName[];
  codec: { warmupMs: number; runMs: number; runs: number; payloadSizes: number[] };
  e2e: {
    /** One throughput run lasts this long; runs alternate ours / official SDK. */
    runMs: number;
    runs: number;
    windows: number[];
    payloadBytes: number;
    /** Round-trip time the delay relay adds (half each way). */
    rttMs: number;
    /** Connect-to-ready measurements per client. */
    readyRuns: number;
    /** Only the connect-to-ready part of e2e (`--ready-only`): no throughput runs. */
    readyOnly: boolean;
  };
  xs: { payloadSizes: number[]; publishes: number; methodCalls: number; sasTokens: number; heapSmall: number; heapLarge: number };
}

export function fullConfig(seed = 0x5eed_b00c): BenchConfig {
  return {
    profile: 'full',
    seed,
    sections: [...ALL_SECTIONS],
    codec: { warmupMs: 300, runMs: 250, runs: 7, payloadSizes: [16, 256, 4096, 65536] },
    e2e: { runMs: 2500, runs: 3, windows: [1, 16], payloadBytes: 256, rttMs: 50, readyRuns: 5, readyOnly: false },
    xs: { payloadSizes: [16, 256, 4096, 65536], publishes: 200, methodCalls: 200, sasTokens: 50, heapSmall: 100, heapLarge: 10_000 },
  };
}

export function smokeConfig(seed = 0x5eed_b00c): BenchConfig {
  return {
    profile: 'smoke',
    seed,
    sections: [...ALL_SECTIONS],
    codec: { warmupMs: 1, runMs: 5, runs: 1, payloadSizes: [16, 4096] },
    e2e: { runMs: 200, runs: 1, windows: [1, 16], payloadBytes: 64, rttMs: 20, readyRuns: 1, readyOnly: false },
    xs: { payloadSizes: [16, 256], publishes: 5, methodCalls: 5, sasTokens: 2, heapSmall: 10, heapLarge: 50 },
  };
}

/** `--smoke`, `--seed N`, `--only codec,xs`, `--runs N`, `--ready-only` on top of the chosen profile. */
export function configFromArgs(argv: readonly string[]): BenchConfig {
  const seedAt = argv.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(argv[seedAt + 1]) : undefined;
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error('--seed needs an integer');
  const config = argv.includes('--smoke') ? smokeConfig(seed) : fullConfig(seed);
  const onlyAt = argv.indexOf('--only');
  if (onlyAt >= 0) {
    const names = (argv[onlyAt + 1] ?? '').split(',').filter(Boolean);
    const unknown = names.filter((n) => !ALL_SECTIONS.includes(n as SectionName));
    if (unknown.length > 0 || names.length === 0) {
      throw new Error(`--only takes a comma-separated list of ${ALL_SECTIONS.join(', ')}`);
    }
    config.sections = names as SectionName[];
  }
  const runsAt = argv.indexOf('--runs');
  if (runsAt >= 0) {
    const runs = Number(argv[runsAt + 1]);
    if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
    config.codec.runs = runs;
    config.e2e.runs = runs;
  }
  config.e2e.readyOnly = argv.includes('--ready-only');
  return config;
}
