// The one rule for the telemetry interval, shared by the configuration, the twin's desired `telemetryInterval`
// and the `setTelemetryInterval` method, so all three accept and refuse exactly the same values.
// Milliseconds everywhere. The floor keeps a misconfigured device from burning a hub's daily message quota
// (8,000 on the free tier) in minutes; the ceiling is a day.

export const MIN_TELEMETRY_INTERVAL_MS = 1_000;
export const MAX_TELEMETRY_INTERVAL_MS = 86_400_000;

/** undefined when `value` is a usable interval; otherwise what is wrong with it. */
export function checkTelemetryInterval(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be a whole number of milliseconds';
  if (value < MIN_TELEMETRY_INTERVAL_MS || value > MAX_TELEMETRY_INTERVAL_MS) {
    return `must be between ${MIN_TELEMETRY_INTERVAL_MS} and ${MAX_TELEMETRY_INTERVAL_MS} ms`;
  }
  return undefined;
}
