// Bounded fuzz run of the MQTT stream parser (the soak run does millions: `npx tsx soak/index.ts --fuzz N`).
import { fuzzMqttStreamParser } from '../../soak/fuzz/mqtt-fuzz';
import { DEFAULT_MAX_PACKET_SIZE } from '../../src/mqtt/stream-parser';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('FUZZ_SEED', 20261122);
const INPUTS = 40_000;

describe('MQTT stream parser under mutated input', () => {
  const stats = fuzzMqttStreamParser({ seed: SEED, inputs: INPUTS });
  report(
    `mqtt fuzz: ${stats.inputs} inputs (seed ${SEED}; replay with FUZZ_SEED=${SEED}), ${stats.accepted} gave packets, ` +
      `${stats.rejected} refused, slowest ${stats.slowestInputMs.toFixed(1)} ms, most bytes held ${stats.maxBufferedBytes} ` +
      `(limit ${stats.maxPacketSize}), ${stats.elapsedMs.toFixed(0)} ms`,
  );

  test('no input throws, hangs, outgrows the buffer limit, depends on chunking or fails to re-encode', () => {
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(INPUTS);
  });

  test('the run reaches both sides: packets accepted and every refusal class the corpus can hit', () => {
    expect(stats.accepted).toBeGreaterThan(INPUTS / 4);
    expect(stats.rejected).toBeGreaterThan(INPUTS / 4);
    for (const code of ['truncated', 'malformed-length', 'reserved-flags', 'invalid-utf8', 'packet-too-large', 'qos2-unsupported', 'unknown-type', 'length-mismatch']) {
      expect(stats.errorCodes[code] ?? 0).toBeGreaterThan(0);
    }
  });

  test('the parser never held more than the device limit for an unfinished packet', () => {
    expect(stats.maxPacketSize).toBe(DEFAULT_MAX_PACKET_SIZE);
    expect(stats.maxBufferedBytes).toBeLessThanOrEqual(DEFAULT_MAX_PACKET_SIZE);
  });
});
