// Bounded fuzz run of the modem's AT reader and dialogue (the soak run does more: `npm run soak -- --fuzz N`).
import { fuzzAtParser } from '../../soak/fuzz/at-fuzz';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('FUZZ_SEED', 20261202);
const INPUTS = 5_000;

describe('the AT reader and dialogue under mutated SLM answers', () => {
  const stats = fuzzAtParser({ seed: SEED, inputs: INPUTS });
  report(
    `at fuzz: ${stats.inputs} inputs (seed ${SEED}; replay with FUZZ_SEED=${SEED}), ${stats.accepted} gave lines, ` +
      `slowest ${stats.slowestInputMs.toFixed(1)} ms, refusals ${JSON.stringify(stats.errorCodes)}, ${stats.elapsedMs.toFixed(0)} ms`,
  );

  test('no input throws, hangs, passes a bound, depends on chunking or leaves a command unended', () => {
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(INPUTS);
  });

  test('the run reaches every refusal class', () => {
    for (const code of ['garbage', 'too-long', 'too-large']) expect(stats.errorCodes[code] ?? 0).toBeGreaterThan(0);
    expect(stats.accepted).toBeGreaterThan(INPUTS / 2);
  });
});
