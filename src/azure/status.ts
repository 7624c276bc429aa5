// Classifying the HTTP-like statuses that twin, method and DPS responses carry.

/** Azure treats anything below 400 as success (twin PATCH answers 204, DPS polling answers 202). */
export function isSuccessStatus(status: number): boolean {
  return status >= 100 && status < 400;
}

/** Throttling (429) and server-side failures (5xx) may succeed later; other failures will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status < 600);
}
