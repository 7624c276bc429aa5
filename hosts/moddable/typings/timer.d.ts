// "timer" (documentation/base/base.md, class Timer): one-shot and repeating callbacks on the run loop.
declare module 'timer' {
  /** A timer instance: opaque, only good for passing back to the static functions. */
  class Timer {
    private constructor();
    private readonly opaque: true;
    /** No interval: runs on the next turn. Interval only: one shot. Both: repeats. */
    static set(callback: (timer: Timer) => void, interval?: number, repeat?: number): Timer;
    static repeat(callback: (timer: Timer) => void, interval: number): Timer;
    /** No intervals: unschedules the timer without freeing it. */
    static schedule(timer: Timer, interval?: number, repeat?: number): void;
    /** Ignores undefined/null and timers that already fired. */
    static clear(timer: Timer | undefined | null): void;
    /** Blocks the whole machine; only for short hardware waits. */
    static delay(ms: number): void;
  }
  export default Timer;
}
