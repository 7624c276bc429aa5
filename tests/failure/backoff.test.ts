import { DEFAULT_BACKOFF, backoffDelay, checkBackoffPolicy, randomFromCrypto, type BackoffPolicy } from '../../src/failure/backoff';

const NO_JITTER = { attemptDurationMs: 0, throttled: false, random: 0 };

describe('backoff schedule: min * 2^attempt capped at max', () => {
  it('doubles from 1 s and stops at 100 s with the default policy', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 2000].map((attempt) => backoffDelay({ ...NO_JITTER, attempt }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 100000, 100000, 100000, 100000]);
  });

  it('treats negative, fractional and non-finite attempts sanely', () => {
    expect(backoffDelay({ ...NO_JITTER, attempt: -3 })).toBe(1000);
    expect(backoffDelay({ ...NO_JITTER, attempt: 2.9 })).toBe(4000);
    expect(backoffDelay({ ...NO_JITTER, attempt: Number.NaN })).toBe(1000);
  });
});

describe('backoff jitter', () => {
  it('adds up to maxJitterMs when the sum stays within max', () => {
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 0, throttled: false, random: 0.5 })).toBe(1000 + 2500);
    expect(backoffDelay({ attempt: 3, attemptDurationMs: 0, throttled: false, random: 0.999 })).toBe(8000 + 4995);
  });

  it('adds no jitter when that would exceed max', () => {
    expect(backoffDelay({ attempt: 7, attemptDurationMs: 0, throttled: false, random: 0.9 })).toBe(100000);
    // 64 s + 4.5 s stays under 100 s
    expect(backoffDelay({ attempt: 6, attemptDurationMs: 0, throttled: false, random: 0.9 })).toBe(68500);
  });

  it('ignores a random value outside [0, 1)', () => {
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 0, throttled: false, random: 1 })).toBe(1000);
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 0, throttled: false, random: -0.5 })).toBe(1000);
  });
});

describe('backoff minus the failed attempt duration', () => {
  it('subtracts the time the attempt took, floored at zero', () => {
    expect(backoffDelay({ attempt: 2, attemptDurationMs: 1500, throttled: false, random: 0 })).toBe(2500);
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 30000, throttled: false, random: 0.5 })).toBe(0);
  });
});

describe('backoff when throttled', () => {
  it('waits at least the throttled floor, 10-60 s by default', () => {
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 0, throttled: true, random: 0 })).toBe(10000);
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 0, throttled: true, random: 0.5 })).toBe(35000);
    // the exponential delay wins once it is longer than the floor
    expect(backoffDelay({ attempt: 7, attemptDurationMs: 0, throttled: true, random: 0.5 })).toBe(100000);
  });

  it('applies the floor even when the attempt took long', () => {
    expect(backoffDelay({ attempt: 0, attemptDurationMs: 60000, throttled: true, random: 0 })).toBe(10000);
  });
});

describe('backoff policy checks', () => {
  it('accepts the default and names a bad field', () => {
    expect(checkBackoffPolicy(DEFAULT_BACKOFF)).toBeUndefined();
    expect(checkBackoffPolicy({ ...DEFAULT_BACKOFF, minDelayMs: -1 })).toMatch(/^minDelayMs/);
    expect(checkBackoffPolicy({ ...DEFAULT_BACKOFF, maxDelayMs: 10 })).toMatch(/maxDelayMs/);
    expect(checkBackoffPolicy({ ...DEFAULT_BACKOFF, throttledMaxMs: 1 })).toMatch(/throttledMaxMs/);
    expect(checkBackoffPolicy({ ...DEFAULT_BACKOFF, maxJitterMs: Number.NaN } as BackoffPolicy)).toMatch(/maxJitterMs/);
  });

  it('uses a custom policy', () => {
    const policy: BackoffPolicy = { minDelayMs: 10, maxDelayMs: 50, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 100 };
    expect([0, 1, 2, 3].map((attempt) => backoffDelay({ ...NO_JITTER, attempt }, policy))).toEqual([10, 20, 40, 50]);
    expect(backoffDelay({ ...NO_JITTER, attempt: 0, throttled: true }, policy)).toBe(100);
  });
});

describe('random source from the crypto port', () => {
  it('maps four bytes to [0, 1)', () => {
    const values = [
      [0, 0, 0, 0],
      [0x80, 0, 0, 0],
      [0xff, 0xff, 0xff, 0xff],
    ];
    let i = 0;
    const random = randomFromCrypto({ randomBytes: () => new Uint8Array(values[i++]!) });
    expect(random()).toBe(0);
    expect(random()).toBe(0.5);
    const top = random();
    expect(top).toBeLessThan(1);
    expect(top).toBeGreaterThan(0.9999999);
  });
});
