// Fault injection for the DPS emulator: canned error answers, dropped connections and added latency,
// so device code can be tested against throttling, outages and slow networks without a real DPS.

export type DpsRequestKind = 'register' | 'poll';
export type FaultTarget = DpsRequestKind | 'any';

export interface ErrorAnswer {
  /** HTTP-style status put in the response topic, e.g. 429, 500, 503. */
  status: number;
  /** How many requests get this answer. Default 1. */
  count?: number;
  /** Which requests: register, poll or any (default). */
  requests?: FaultTarget;
  /** Put `retry-after={seconds}` on the response topic. */
  retryAfterSeconds?: number;
  /** Default: status * 1000 (429 -> 429000). */
  errorCode?: number;
  message?: string;
}

export type InjectedFault =
  | { type: 'answer'; status: number; retryAfterSeconds?: number; errorCode: number; message: string }
  | { type: 'drop' };

interface QueuedFault {
  remaining: number;
  requests: FaultTarget;
  fault: InjectedFault;
}

const DEFAULT_MESSAGES: Record<number, string> = {
  429: 'Operations are being throttled (injected fault).',
  500: 'Internal server error (injected fault).',
  503: 'Service unavailable (injected fault).',
};

function checkCount(count: number | undefined): number {
  const value = count ?? 1;
  if (!Number.isInteger(value) || value < 1) throw new RangeError('fault count must be a whole number >= 1');
  return value;
}

export class DpsFaults {
  private readonly queue: QueuedFault[] = [];
  private latency = 0;

  /** Answers the next `count` matching requests with an error status instead of processing them. */
  answerWith(answer: ErrorAnswer): void {
    if (!Number.isInteger(answer.status) || answer.status < 400 || answer.status > 599) {
      throw new RangeError('fault status must be an HTTP error status (400-599)');
    }
    if (answer.retryAfterSeconds !== undefined && (!Number.isInteger(answer.retryAfterSeconds) || answer.retryAfterSeconds < 0)) {
      throw new RangeError('retryAfterSeconds must be a whole number >= 0');
    }
    const fault: InjectedFault = {
      type: 'answer',
      status: answer.status,
      errorCode: answer.errorCode ?? answer.status * 1000,
      message: answer.message ?? DEFAULT_MESSAGES[answer.status] ?? `Error ${answer.status} (injected fault).`,
    };
    if (answer.retryAfterSeconds !== undefined) fault.retryAfterSeconds = answer.retryAfterSeconds;
    this.queue.push({ remaining: checkCount(answer.count), requests: answer.requests ?? 'any', fault });
  }

  /** Closes the connection, without any answer, on the next `count` matching requests. */
  dropConnection(options: { count?: number; requests?: FaultTarget } = {}): void {
    this.queue.push({ remaining: checkCount(options.count), requests: options.requests ?? 'any', fault: { type: 'drop' } });
  }

  /** Delays every answer by `ms` milliseconds (0 turns it off). */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('latency must be >= 0 ms');
    this.latency = ms;
  }

  get latencyMs(): number {
    return this.latency;
  }

  /** Forgets queued faults and latency. */
  clear(): void {
    this.queue.length = 0;
    this.latency = 0;
  }

  pending(): number {
    return this.queue.reduce((sum, q) => sum + q.remaining, 0);
  }

  /** Consumes and returns the fault for this request, if one is queued. */
  take(kind: DpsRequestKind): InjectedFault | undefined {
    const index = this.queue.findIndex((q) => q.requests === 'any' || q.requests === kind);
    if (index < 0) return undefined;
    const entry = this.queue[index];
    entry.remaining -= 1;
    if (entry.remaining === 0) this.queue.splice(index, 1);
    return entry.fault;
  }
}
