// WallClock on Date.now(). A board boots at 1970 and keeps that until SNTP (see sntp-sync.ts) sets the clock, so
// any time before a floor date counts as "not set": SAS tokens and certificate dates would be meaningless.
// On the Linux simulator Date.now() is the host's clock, which is set.
import type { WallClock } from '../../src/ports';

/** 2024-01-01T00:00:00Z: no firmware built from this code runs earlier. */
export const DEFAULT_CLOCK_FLOOR_MS = 1_704_067_200_000;

export function createModdableClock(options: { floorMs?: number; now?: () => number } = {}): WallClock {
  const floor = options.floorMs ?? DEFAULT_CLOCK_FLOOR_MS;
  const now = options.now ?? (() => Date.now());
  return {
    unixMs() {
      const ms = now();
      return ms >= floor ? ms : undefined;
    },
  };
}
