// A deterministic clock implementing the Timers port: time moves only when a test (or a script) says so,
// so keepalive and timeout behaviour can be asserted to the millisecond on Node and on XS alike.
// No host timers are used; nothing here may import a Node or Moddable module.

import type { TimerHandle, Timers } from '../../src/ports';

interface VirtualTimer {
  readonly seq: number;
  readonly due: number;
  readonly callback: () => void;
}

export class VirtualClock implements Timers {
  private time: number;
  private seq = 0;
  /** Sorted by due time, then by creation order, so equal deadlines fire in the order they were set. */
  private pending: VirtualTimer[] = [];
  /** Exceptions thrown by timer callbacks; a host would report them as uncaught. */
  readonly uncaught: unknown[] = [];

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: VirtualTimer = { seq: ++this.seq, due: this.time + delay, callback };
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].due > timer.due) i--;
    this.pending.splice(i, 0, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.pending.indexOf(handle as VirtualTimer);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Timers still waiting to fire. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Milliseconds until the next timer fires, or undefined when none is set. */
  nextDueIn(): number | undefined {
    return this.pending.length > 0 ? this.pending[0].due - this.time : undefined;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, each at its own instant
   * (timers set by a callback fire too if they fall inside the window). Returns how many fired.
   * A throwing callback does not stop the clock: the error is kept in `uncaught` and rethrown at the end.
   */
  advance(ms: number): number {
    const target = this.time + (Number.isFinite(ms) && ms > 0 ? ms : 0);
    let fired = 0;
    const firstUncaught = this.uncaught.length;
    while (this.fireNextBefore(target)) fired++;
    this.time = target;
    if (this.uncaught.length > firstUncaught) throw this.uncaught[firstUncaught];
    return fired;
  }

  /**
   * Like `advance`, but lets promise jobs run after every timer, so async code that a timer wakes
   * (a handler awaiting a delay, say) runs before the next timer fires, as it would on a real event loop.
   */
  async advanceSettled(ms: number): Promise<number> {
    const target = this.time + (Number.isFinite(ms) && ms > 0 ? ms : 0);
    let fired = 0;
    await settle();
    while (this.fireNextBefore(target)) {
      fired++;
      await settle();
    }
    this.time = target;
    return fired;
  }

  private fireNextBefore(target: number): boolean {
    const next = this.pending[0];
    if (next === undefined || next.due > target) return false;
    this.pending.shift();
    this.time = next.due;
    try {
      next.callback();
    } catch (error) {
      this.uncaught.push(error);
    }
    return true;
  }
}

/**
 * Lets queued promise jobs run: enough turns for the short await chains the firmware uses.
 * Only promise jobs, no host scheduler, so it behaves the same on XS and Node.
 */
export async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
