// Messages per second through a client with a fixed number in flight: a new send starts as each one completes,
// for a fixed time. Only sends that completed inside the time count; stragglers are awaited, not counted.

export type Send = (index: number) => Promise<void>;

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface RateResult {
  perSecond: number;
  sent: number;
  /** CPU time this process spent per message sent (user + system), in microseconds. */
  cpuMicrosPerMessage: number;
}

export async function measureRate(send: Send, window: number, durationMs: number, startIndex = 0): Promise<RateResult> {
  let index = startIndex;
  let completed = 0;
  let failure: unknown;
  const cpuBefore = process.cpuUsage();
  const start = nowMs();
  const end = start + durationMs;
  const lane = async (): Promise<void> => {
    while (failure === undefined && nowMs() < end) {
      try {
        await send(index++);
      } catch (error) {
        failure = error;
        return;
      }
      if (nowMs() <= end) completed++;
    }
  };
  await Promise.all(Array.from({ length: window }, () => lane()));
  const cpu = process.cpuUsage(cpuBefore);
  if (failure !== undefined) throw failure;
  const sent = index - startIndex;
  return { perSecond: (completed * 1000) / durationMs, sent, cpuMicrosPerMessage: (cpu.user + cpu.system) / Math.max(1, sent) };
}
