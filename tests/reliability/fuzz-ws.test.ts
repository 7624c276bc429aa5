// Bounded fuzz run of the WebSocket client (the soak run does more: `npm run soak`).
import { fuzzWebSocket } from '../../soak/fuzz/ws-fuzz';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('FUZZ_SEED', 20261202);
const INPUTS = 5_000;

describe('the WebSocket client under hostile server frames', () => {
  const stats = fuzzWebSocket({ seed: SEED, inputs: INPUTS });
  report(
    `ws fuzz: ${stats.inputs} inputs (seed ${SEED}; replay with FUZZ_SEED=${SEED}), ${stats.accepted} passed data or closed cleanly, ` +
      `${stats.rejected} refused, slowest ${stats.slowestInputMs.toFixed(1)} ms, ${stats.elapsedMs.toFixed(0)} ms; ${JSON.stringify(stats.errorCodes)}`,
  );

  test('no input throws, hangs, depends on chunking, closes twice, leaks data after close or past an oversized frame', () => {
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(INPUTS);
  });

  test('the run reaches every refusal: masked, oversized, bad close codes, text, fragments out of order, bad handshakes', () => {
    const codes = Object.keys(stats.errorCodes).join('\n');
    for (const pattern of [/masked frame/, /over the N-byte limit/, /close code N is not/, /text frame/, /continuation frame/, /new message/, /shortest form/, /RSV/, /upgrade/, /peer-close/]) {
      expect(codes).toMatch(pattern);
    }
  });
});
