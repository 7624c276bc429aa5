// Figures the reliability tests print (seeds to replay, counts to quote in RELIABILITY.md). Written straight to
// stdout so jest does not wrap each line in a console stack trace.

export function report(line: string): void {
  process.stdout.write(`[reliability] ${line}\n`);
}

/** A seed from the environment (to replay a printed one) or the fixed default that CI runs. */
export function seedFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n >>> 0;
}
