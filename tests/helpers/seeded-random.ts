// The one seeded PRNG for tests, bench and soak: every run can print its seed, and the same seed replays the same
// inputs. Host-neutral (no Node imports) so XS bundles can use it too. src/app/simulated-sensor.ts keeps its own
// copy because src/ may not import tests/.

// A module binding instead of a global lookup: under jest's vm context every `Math.` access is a slow interceptor
// call, and the soak draws a few hundred million numbers.
const imul = Math.imul;

/** How far mulberry32 moves its 32-bit state per draw. */
const MULBERRY32_STEP = 0x6d2b79f5;

/** The state after one draw from `state`. */
export function mulberry32Advance(state: number): number {
  return (state + MULBERRY32_STEP) >>> 0;
}

/** The value, uniform in [0, 1), that mulberry32 yields at an (already advanced) state. */
export function mulberry32Value(state: number): number {
  let t = state;
  t = imul(t ^ (t >>> 15), t | 1);
  t ^= t + imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export type Random = () => number;

/** mulberry32: small, fast, good enough to drive test data and payloads from a printed seed; not for secrets. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = mulberry32Advance(state);
    return mulberry32Value(state);
  };
}
