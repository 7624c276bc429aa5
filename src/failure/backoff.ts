// Reconnect and retry delays: exponential growth capped at a maximum, random jitter to spread a fleet that lost
// the hub at the same moment, minus the time the failed attempt already took (a 20 s TLS timeout has waited
// long enough), floored at zero. Throttling gets a separate, longer random floor, because retrying a throttled
// hub within seconds only extends the throttling.

import type { CryptoPort } from '../ports';

export interface BackoffPolicy {
  minDelayMs: number;
  maxDelayMs: number;
  /** Jitter is drawn from [0, maxJitterMs) and added only if the sum stays within maxDelayMs. */
  maxJitterMs: number;
  /** After a throttling answer (429) the delay is at least a random value in [throttledMinMs, throttledMaxMs). */
  throttledMinMs: number;
  throttledMaxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  minDelayMs: 1_000,
  maxDelayMs: 100_000,
  maxJitterMs: 5_000,
  throttledMinMs: 10_000,
  throttledMaxMs: 60_000,
};

export interface BackoffInput {
  /** 0 for the first retry. */
  attempt: number;
  /** How long the failed attempt took. */
  attemptDurationMs: number;
  throttled: boolean;
  /** A uniform random number in [0, 1). */
  random: number;
}

/** A uniform random source in [0, 1). */
export type RandomSource = () => number;

function unit(random: number): number {
  return Number.isFinite(random) && random >= 0 && random < 1 ? random : 0;
}

/** undefined when every field is usable, else a message naming the first bad one. */
export function checkBackoffPolicy(policy: BackoffPolicy): string | undefined {
  const fields: Array<keyof BackoffPolicy> = ['minDelayMs', 'maxDelayMs', 'maxJitterMs', 'throttledMinMs', 'throttledMaxMs'];
  for (const field of fields) {
    const value = policy[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${field} must be a non-negative number`;
  }
  if (policy.maxDelayMs < policy.minDelayMs) return 'maxDelayMs must not be below minDelayMs';
  if (policy.throttledMaxMs < policy.throttledMinMs) return 'throttledMaxMs must not be below throttledMinMs';
  return undefined;
}

export function backoffDelay(input: BackoffInput, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const attempt = Number.isFinite(input.attempt) && input.attempt > 0 ? Math.floor(input.attempt) : 0;
  const random = unit(input.random);
  // 2^attempt overflows to Infinity long after the cap is reached; min() handles that.
  let delay = Math.min(policy.minDelayMs * Math.pow(2, attempt), policy.maxDelayMs);
  const jitter = Math.floor(random * policy.maxJitterMs);
  if (delay + jitter <= policy.maxDelayMs) delay += jitter;
  const spent = Number.isFinite(input.attemptDurationMs) && input.attemptDurationMs > 0 ? input.attemptDurationMs : 0;
  delay = Math.max(0, delay - spent);
  if (input.throttled) {
    const floor = policy.throttledMinMs + Math.floor(random * (policy.throttledMaxMs - policy.throttledMinMs));
    delay = Math.max(delay, floor);
  }
  return delay;
}

/** [0, 1) from four random bytes of the crypto port. */
export function randomFromCrypto(crypto: Pick<CryptoPort, 'randomBytes'>): RandomSource {
  return () => {
    const bytes = crypto.randomBytes(4);
    const value = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
    return value / 0x1_0000_0000;
  };
}

/**
 * The slow retry after a stop (refused credentials, a configuration the service rejects): `baseMs` plus up to a
 * quarter more, so a fleet refused at one moment (a key rotation) does not come back at one moment either.
 */
export function slowRetryDelay(baseMs: number, random: number): number {
  return baseMs + Math.floor(unit(random) * (baseMs / 4));
}
