// Bounded fuzz run of the Azure parsers: connection strings, SAS tokens, property bags, every response topic,
// twin / DPS JSON, base64 and percent encoding. The soak run does millions.
import { fuzzAzureParsers } from '../../soak/fuzz/azure-fuzz';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('FUZZ_SEED', 20261122);
const INPUTS = 12_000;

describe('Azure parsers under mutated input', () => {
  const stats = fuzzAzureParsers({ seed: SEED, inputs: INPUTS, hmac: createNodeCrypto().hmacSha256 });
  report(
    `azure fuzz: ${stats.inputs} inputs (seed ${SEED}; replay with FUZZ_SEED=${SEED}), ${stats.accepted} accepted, ` +
      `${stats.rejected} refused, ${Object.keys(stats.errorCodes).length} distinct parser:code pairs, ` +
      `slowest ${stats.slowestInputMs.toFixed(1)} ms, ${stats.elapsedMs.toFixed(0)} ms`,
  );

  test('no parser throws, hangs, echoes a key or signature, claims a topic twice, or fails to round-trip', () => {
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(INPUTS);
  });

  test('each parser was driven to accept and to refuse', () => {
    const seen = Object.keys(stats.errorCodes).map((k) => k.split(':')[0]);
    for (const parser of ['connection string', 'sas token', 'property bag', 'twin response topic', 'twin desired topic', 'method topic', 'c2d topic', 'dps topic', 'twin document', 'desired patch', 'dps response', 'json', 'base64', 'percent']) {
      expect(seen).toContain(parser);
    }
    expect(stats.accepted).toBeGreaterThan(INPUTS / 5);
  });
});
