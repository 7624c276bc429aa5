// Timers port on Node's own timers and the monotonic performance clock.
import { performance } from 'node:perf_hooks';
import type { TimerHandle, Timers } from '../../src/ports';

export function createNodeTimers(): Timers {
  return {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => performance.now(),
  };
}
