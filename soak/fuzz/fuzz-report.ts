// What a fuzz run found, in a form both the jest tests and the soak printout use.

export interface FuzzFailure {
  /** Which property broke: 'exception', 'slow', 'buffer-bound', 'chunking', 're-encode', 'secret-echo', ... */
  property: string;
  target: string;
  detail: string;
  /** The input (hex for bytes, JSON for text), to replay it by hand. */
  input: string;
}

export interface FuzzStats {
  seed: number;
  inputs: number;
  /** Inputs a parser accepted (at least one packet, or an ok result). */
  accepted: number;
  rejected: number;
  /** Rejections per error code. */
  errorCodes: Record<string, number>;
  slowestInputMs: number;
  /** MQTT only: the most bytes the stream parser ever held for an unfinished packet, and its limit. */
  maxBufferedBytes?: number;
  maxPacketSize?: number;
  elapsedMs: number;
  failures: FuzzFailure[];
}

export function emptyStats(seed: number): FuzzStats {
  return { seed, inputs: 0, accepted: 0, rejected: 0, errorCodes: {}, slowestInputMs: 0, elapsedMs: 0, failures: [] };
}

export function countCode(stats: FuzzStats, code: string): void {
  stats.errorCodes[code] = (stats.errorCodes[code] ?? 0) + 1;
}

/** Keeps the first few failures only: one broken property can fail every input after it. */
export function addFailure(stats: FuzzStats, failure: FuzzFailure, keep = 20): void {
  if (stats.failures.length < keep) stats.failures.push(failure);
}

export function hexOf(bytes: Uint8Array, limit = 512): string {
  let s = '';
  const n = Math.min(bytes.length, limit);
  for (let i = 0; i < n; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return bytes.length > limit ? `${s}... (${bytes.length} bytes)` : s;
}

/** A monotonic millisecond clock on Node and XS alike. */
export function nowMs(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? perf.now() : Date.now();
}
