// Wall clock on Date.now(). A device starts with no idea of the time until SNTP answers; `markNotSet` lets
// tests put the Node host in that state (SAS tokens cannot be signed, certificates cannot be date-checked).
import type { WallClock } from '../../src/ports';

export interface NodeWallClock extends WallClock {
  markNotSet(): void;
  /** Back to real time, optionally shifted (a device whose clock runs fast or slow). */
  markSet(offsetMs?: number): void;
}

export function createNodeClock(options: { notSet?: boolean; offsetMs?: number } = {}): NodeWallClock {
  let set = !options.notSet;
  let offsetMs = options.offsetMs ?? 0;
  return {
    unixMs: () => (set ? Date.now() + offsetMs : undefined),
    markNotSet: () => {
      set = false;
    },
    markSet: (offset = 0) => {
      set = true;
      offsetMs = offset;
    },
  };
}
