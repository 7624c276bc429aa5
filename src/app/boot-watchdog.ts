// Makes sure no firmware state is a dead end. Every state the firmware can rest in while not running has a timer
// that leaves it:
// - `failed` (the policy said stop: refused enrollment, bad configuration...): start again after `failedRetryMs`
//   (hourly by default), since enrollments get fixed and devices re-enabled without anyone touching the device;
// - the boot states (waiting for the clock, provisioning, connecting): if the device is still not running after
//   `stuckBootMs`, start again, the way a hardware watchdog would (a wedged network stack, a clock that never comes).
// `running` needs none (the hub client reconnects by itself); `stopped` is only reached on request.
// The owner says what "start again" is: a board reboot (PlatformHooks.reboot) or the in-place restart.

import type { LogLevel, TimerHandle, Timers } from '../ports';

export const DEFAULT_FAILED_RETRY_MS = 3_600_000;
export const DEFAULT_STUCK_BOOT_MS = 6 * 3_600_000;

/** How the watchdog sees a firmware state. */
export type WatchedPhase = 'booting' | 'failed' | 'settled';

export interface BootWatchdogOptions {
  timers: Timers;
  failedRetryMs: number;
  stuckBootMs: number;
  /** Start again (reboot or restart in place); `why` says which timer ran out. */
  recover(why: string): void;
  log(level: LogLevel, message: string): void;
}

/** undefined when the value is usable as a delay, else what is wrong with it. */
export function checkWatchdogDelay(name: string, value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? undefined : `${name} must be a whole number of milliseconds >= 1`;
}

export class BootWatchdog {
  private phase: WatchedPhase = 'settled';
  private timer: TimerHandle | undefined;

  constructor(private readonly options: BootWatchdogOptions) {}

  /** Tell it about every state change. A boot keeps its first deadline while it moves between boot states. */
  enter(phase: WatchedPhase): void {
    const previous = this.phase;
    this.phase = phase;
    if (phase === 'settled') {
      this.clear();
    } else if (phase === 'failed') {
      this.arm(this.options.failedRetryMs, 'the firmware failed; starting again');
    } else if (previous !== 'booting') {
      this.arm(this.options.stuckBootMs, 'the boot did not reach the hub in time; starting again');
    }
  }

  /** Clears the timer for good (the firmware is stopping). */
  clear(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number, why: string): void {
    this.clear();
    if (this.phase === 'failed') this.options.log('info', `starting again in ${Math.round(delayMs / 1000)} s`);
    else this.options.log('debug', `boot watchdog: starting again in ${Math.round(delayMs / 1000)} s unless the device is running by then`);
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.options.log('warn', why);
      this.options.recover(why);
    }, delayMs);
  }
}
