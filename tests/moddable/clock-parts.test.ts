// Monotonic time from Moddable's wrapping Time.ticks, and the "clock not set" floor of the wall clock.
import { createMonotonicClock } from '../../hosts/moddable/monotonic';
import { createModdableClock, DEFAULT_CLOCK_FLOOR_MS } from '../../hosts/moddable/clock';

/** Time.delta on a microcontroller: the difference of two signed 32-bit tick values. */
const delta32 = (start: number, end: number): number => (end - start) | 0;

describe('createMonotonicClock', () => {
  test('counts across a signed 32-bit wrap of ticks', () => {
    const readings = [0x7fffff00, 0x7fffffff, -0x80000000 + 0x10, -0x80000000 + 0x110];
    let i = 0;
    const now = createMonotonicClock(() => readings[i], delta32);
    const values: number[] = [];
    for (i = 1; i < readings.length; i++) values.push(now());
    expect(values).toEqual([0xff, 0xff + 0x11, 0xff + 0x11 + 0x100]);
  });

  test('ignores a backward step instead of running back', () => {
    const readings = [1000, 1500, 1200, 1300];
    let i = 0;
    const now = createMonotonicClock(() => readings[i], (a, b) => b - a);
    const values: number[] = [];
    for (i = 1; i < readings.length; i++) values.push(now());
    expect(values).toEqual([500, 500, 600]);
  });
});

describe('createModdableClock', () => {
  test('a board still at 1970 reads as not set; a real date reads as set', () => {
    let t = 5_000;
    const clock = createModdableClock({ now: () => t });
    expect(clock.unixMs()).toBeUndefined();
    t = DEFAULT_CLOCK_FLOOR_MS + 1;
    expect(clock.unixMs()).toBe(DEFAULT_CLOCK_FLOOR_MS + 1);
  });

  test('the floor can be moved', () => {
    expect(createModdableClock({ floorMs: 10, now: () => 10 }).unixMs()).toBe(10);
    expect(createModdableClock({ floorMs: 11, now: () => 10 }).unixMs()).toBeUndefined();
  });
});
