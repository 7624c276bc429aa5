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

/**
 * A final registration answer (200) that ends the device's registration as `disabled` or `failed`, whatever
 * its enrollment says, in the shapes Azure DPS sends.
 */
export interface FinalAnswer {
  status: 'disabled' | 'failed';
  /** Put in the body's `operationId`. Default: `""` for disabled (as DPS sends it), a fresh id for failed. */
  operationId?: string;
  /** `failed` only: `registrationState.errorCode` (default 400207, a custom-allocation failure). */
  errorCode?: number;
  /** `failed` only: `registrationState.errorMessage`. */
  errorMessage?: string;
  /** How many requests get this answer. Default 1. */
  count?: number;
  /** Which requests: register, poll or any (default). */
  requests?: FaultTarget;
}

export type InjectedFault =
  | { type: 'answer'; status: number; retryAfterSeconds?: number; errorCode: number; message: string }
  | { type: 'final'; status: 'disabled' | 'failed'; operationId?: string; errorCode: number; errorMessage: string }
  | { type: 'drop' };

/**
 * The body of an injected final answer. `disabled` is the short form, `{"operationId":"","status":"disabled",
 * "registrationState":{"registrationId":..,"status":"disabled"}}` (the one Azure SDK for Embedded C's parser
 * test holds); `failed` carries the full registration state with `errorCode` and `errorMessage`.
 */
export function finalAnswerBody(
  fault: Extract<InjectedFault, { type: 'final' }>,
  context: { registrationId: string; nowIso: string; newId: () => string },
): Record<string, unknown> {
  if (fault.status === 'disabled') {
    return { operationId: fault.operationId ?? '', status: 'disabled', registrationState: { registrationId: context.registrationId, status: 'disabled' } };
  }
  return {
    operationId: fault.operationId ?? `4.${context.newId().replace(/-/g, '').slice(0, 16)}.${context.newId()}`,
    status: 'failed',
    registrationState: {
      registrationId: context.registrationId,
      createdDateTimeUtc: context.nowIso,
      status: 'failed',
      errorCode: fault.errorCode,
      errorMessage: fault.errorMessage,
      lastUpdatedDateTimeUtc: context.nowIso,
      etag: Buffer.from(JSON.stringify(context.newId())).toString('base64'),
    },
  };
}

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

  /** Ends the next `count` matching requests with a final `disabled` or `failed` answer (status 200). */
  answerFinal(answer: FinalAnswer): void {
    if (answer.status !== 'disabled' && answer.status !== 'failed') throw new RangeError('final status must be disabled or failed');
    const errorCode = answer.errorCode ?? 400207;
    if (!Number.isInteger(errorCode) || errorCode < 100000 || errorCode > 599999) throw new RangeError('errorCode must be a six-digit DPS error code');
    const fault: InjectedFault = {
      type: 'final',
      status: answer.status,
      errorCode,
      errorMessage: answer.errorMessage ?? 'Custom allocation failed (injected fault).',
    };
    if (answer.operationId !== undefined) fault.operationId = answer.operationId;
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
