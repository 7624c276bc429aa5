// "time" (documentation/base/base.md, class Time): system clock setting and the millisecond tick counter.
declare module 'time' {
  const Time: {
    /** Sets the system time from Unix seconds (a no-op on the Linux simulator, which uses the host clock). */
    set(seconds: number): void;
    timezone: number;
    dst: number;
    /** Milliseconds for measuring intervals; a wrapping signed 32-bit value on most microcontrollers. */
    readonly ticks: number;
    /** end - start, correct across a wrap of `ticks`; `end` defaults to now. */
    delta(start: number, end?: number): number;
  };
  export default Time;
}
