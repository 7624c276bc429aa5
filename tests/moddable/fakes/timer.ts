// Stand-in for Moddable's "timer" module (hosts/moddable/typings/timer.d.ts, modules/base/timer), mapped by
// jest.config.js. Time moves only when a test says so (`runLoop.advance`, `runLoop.turn`), so no test waits on
// the wall clock. As on the device: Timer.set with no interval runs on the next turn of the run loop, never
// inside the call that set it; a callback gets its timer; clear ignores anything that is not a live timer.

type TimerCallback = (timer: FakeTimer) => void;

class FakeTimer {
  constructor(
    readonly callback: TimerCallback,
    public due: number,
    public repeat: number,
    readonly order: number,
  ) {}
}

let now = 0;
let nextOrder = 0;
const scheduled = new Set<FakeTimer>();

function schedule(timer: FakeTimer, interval: number, repeat: number): void {
  timer.due = now + Math.max(0, interval);
  timer.repeat = Math.max(0, repeat);
  scheduled.add(timer);
}

function fire(timer: FakeTimer): void {
  if (!scheduled.has(timer)) return; // cleared by an earlier callback of the same turn
  if (timer.repeat > 0) timer.due = now + timer.repeat;
  else scheduled.delete(timer);
  timer.callback(timer);
}

function nextDue(limit: number): FakeTimer | undefined {
  let best: FakeTimer | undefined;
  for (const timer of scheduled) {
    if (timer.due > limit) continue;
    if (!best || timer.due < best.due || (timer.due === best.due && timer.order < best.order)) best = timer;
  }
  return best;
}

export default class Timer {
  static set(callback: TimerCallback, interval = 0, repeat = 0): FakeTimer {
    const timer = new FakeTimer(callback, 0, 0, nextOrder++);
    schedule(timer, interval, repeat);
    return timer;
  }

  static repeat(callback: TimerCallback, interval: number): FakeTimer {
    return Timer.set(callback, interval, interval);
  }

  static schedule(timer: FakeTimer, interval?: number, repeat?: number): void {
    if (interval === undefined) scheduled.delete(timer);
    else schedule(timer, interval, repeat ?? 0);
  }

  static clear(timer: unknown): void {
    if (timer instanceof FakeTimer) scheduled.delete(timer);
  }

  static delay(): void {
    throw new Error('fake timer: Timer.delay would block the whole run loop');
  }
}

/** The test's hand on the run loop. */
export const runLoop = {
  get now(): number {
    return now;
  },
  /** Timers not yet fired or cleared. */
  get pending(): number {
    return scheduled.size;
  },
  /** One turn: runs the timers already due (Timer.set without interval included); ones they set wait for the next turn. */
  turn(): void {
    const due = [...scheduled].filter((timer) => timer.due <= now).sort((a, b) => a.due - b.due || a.order - b.order);
    for (const timer of due) fire(timer);
  },
  /** Moves time forward by `ms`, firing every timer that falls due on the way, each at its own time. */
  advance(ms: number): void {
    const target = now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const timer = nextDue(target);
      if (!timer) break;
      now = Math.max(now, timer.due);
      fire(timer);
    }
    now = target;
  },
  /** Forgets every timer and starts the clock at 0 (between tests). */
  reset(): void {
    scheduled.clear();
    now = 0;
  },
};
