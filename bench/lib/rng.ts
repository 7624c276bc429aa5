// Seeded bytes, so every run (and every machine) benchmarks exactly the same payloads.

import type { Random } from '../../tests/helpers/seeded-random';

export { seededRandom, type Random } from '../../tests/helpers/seeded-random';

export function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (random() * 256) | 0;
  return bytes;
}
