// When to replace the SAS token. MQTT 3.1.1 cannot re-authenticate a live connection, so renewal is a planned
// reconnect; doing it at about 80 % of the token's life leaves a margin for a slow drain and a slow reconnect
// before the hub would cut the connection for an expired token.

export const DEFAULT_SAS_TTL_SECONDS = 3600;
export const DEFAULT_RENEW_FRACTION = 0.8;
/** Tokens shorter than this could expire before a connection is even up. */
export const MIN_SAS_TTL_SECONDS = 1;

export function checkSasTtl(ttlSeconds: number): string | undefined {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < MIN_SAS_TTL_SECONDS) {
    return `sasTtlSeconds must be an integer of at least ${MIN_SAS_TTL_SECONDS}`;
  }
  return undefined;
}

export function checkRenewFraction(fraction: number): string | undefined {
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) return 'renewAtFraction must be between 0 and 1 (exclusive)';
  return undefined;
}

/**
 * Milliseconds from `signedAtUnixMs` until the token should be replaced: `fraction` of the life it really has.
 * The expiry is in whole seconds (rounded down when signed), so the life is measured, not assumed to be the TTL.
 */
export function renewalDelayMs(signedAtUnixMs: number, expiryUnixSeconds: number, fraction = DEFAULT_RENEW_FRACTION): number {
  const lifeMs = expiryUnixSeconds * 1000 - signedAtUnixMs;
  if (!Number.isFinite(lifeMs) || lifeMs <= 0) return 0;
  return Math.floor(lifeMs * fraction);
}
