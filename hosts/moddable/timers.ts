// Timers port on the "timer" module, with a monotonic now() built from Time.ticks.
import Timer from 'timer';
import Time from 'time';
import type { TimerHandle, Timers } from '../../src/ports';
import { createMonotonicClock } from './monotonic';

export function createModdableTimers(): Timers {
  const now = createMonotonicClock(
    () => Time.ticks,
    (start, end) => Time.delta(start, end),
  );
  return {
    setTimeout: (callback, ms) => Timer.set(() => callback(), Math.max(0, ms)),
    clearTimeout: (handle: TimerHandle) => {
      // Handles we gave out are Timer instances; clearing one that already fired is harmless.
      if (typeof handle === 'object') Timer.clear(handle as Timer);
    },
    now,
  };
}
