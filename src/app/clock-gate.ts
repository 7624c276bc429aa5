// Nothing may be signed or date-checked before the wall clock is real: a SAS token from 1970 is refused as
// expired and certificate dates cannot be judged. Hosts set the clock themselves (SNTP on boards, the OS on Node);
// this only waits for it, checking at a short interval and saying now and then that it is still waiting.

import type { LogLevel, TimerHandle, Timers, WallClock } from '../ports';

export interface ClockGateOptions {
  /** How often to look at the clock. Default 500 ms. */
  checkEveryMs?: number;
  /** How often to repeat the "still waiting" line. Default 10 000 ms. */
  remindEveryMs?: number;
}

export interface ClockWait {
  /** Resolves with the clock's reading once it is set, or with undefined when cancelled; never rejects. */
  readonly ready: Promise<number | undefined>;
  cancel(): void;
}

export function waitForClock(
  clock: WallClock,
  timers: Timers,
  log: (level: LogLevel, message: string) => void,
  options: ClockGateOptions = {},
): ClockWait {
  const checkEveryMs = options.checkEveryMs ?? 500;
  const remindEveryMs = options.remindEveryMs ?? 10_000;
  let timer: TimerHandle | undefined;
  let cancelled = false;
  let settle: ((value: number | undefined) => void) | undefined;
  const ready = new Promise<number | undefined>((resolve) => {
    settle = resolve;
    const now = clock.unixMs();
    if (now !== undefined) {
      resolve(now);
      return;
    }
    log('info', 'waiting for the wall clock to be set (SNTP) before signing anything or opening TLS');
    const startedAt = timers.now();
    let lastReminder = startedAt;
    const check = (): void => {
      timer = undefined;
      if (cancelled) return;
      const reading = clock.unixMs();
      if (reading !== undefined) {
        log('info', `wall clock set after ${Math.round(timers.now() - startedAt)} ms: ${new Date(reading).toISOString()}`);
        resolve(reading);
        return;
      }
      if (timers.now() - lastReminder >= remindEveryMs) {
        lastReminder = timers.now();
        log('warn', `still waiting for the wall clock after ${Math.round((lastReminder - startedAt) / 1000)} s; is SNTP reachable?`);
      }
      timer = timers.setTimeout(check, checkEveryMs);
    };
    timer = timers.setTimeout(check, checkEveryMs);
  });
  return {
    ready,
    cancel() {
      cancelled = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      settle?.(undefined);
    },
  };
}
