// The backoff lives in src/failure/backoff.ts, beside the failure policy it serves. This re-export is kept only
// for importers not yet moved over (src/hub/twin-channel.ts).
export { DEFAULT_BACKOFF, backoffDelay, checkBackoffPolicy, randomFromCrypto } from '../failure/backoff';
export type { BackoffInput, BackoffPolicy, RandomSource } from '../failure/backoff';
