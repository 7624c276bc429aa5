// The provisioning flow's decisions as one pure function: given DPS's answer to the last request and how far the
// registration has come, what happens next (poll, register again, done, or give up). The client only carries
// them out, so every rule here (retry-after, fallbacks, bounds, error classes) is testable without I/O.

import { parseDpsResponse, type DpsOutcome, type DpsServiceError } from '../azure/dps-payloads';
import { DpsError, type DpsErrorDetails } from './dps-errors';
import type { DpsLimits, DpsRegistrationResult } from './dps-options';

export interface DpsAnswer {
  /** Status from the response topic. */
  status: number;
  retryAfterSeconds?: number;
  payload: Uint8Array;
}

export interface DpsProgress {
  registrationId: string;
  /** The operation DPS is working on, once a 202 named it; retries then poll it instead of registering again. */
  operationId?: string;
  /** Register and poll PUBLISHes sent so far, the one just answered included. */
  requestsSent: number;
  /** Since register() was called. */
  elapsedMs: number;
  limits: DpsLimits;
}

export type DpsStep =
  | { kind: 'poll'; operationId: string; delayMs: number }
  | { kind: 'register'; delayMs: number }
  | { kind: 'assigned'; result: DpsRegistrationResult }
  | { kind: 'fail'; error: DpsError };

export function decideStep(answer: DpsAnswer, progress: DpsProgress): DpsStep {
  const parsed = parseDpsResponse(answer.status, answer.payload);
  if (!parsed.ok) {
    // Status < 300 with a body we cannot use: the service misbehaved; another attempt may go better.
    return fail(new DpsError('bad-response', `DPS answered ${answer.status} with an unusable body: ${parsed.error.message}`, { retryable: true, status: answer.status }));
  }
  const outcome: DpsOutcome = parsed.value;
  switch (outcome.kind) {
    case 'assigned': {
      const state = outcome.registrationState;
      const result: DpsRegistrationResult = {
        assignedHub: outcome.assignedHub,
        deviceId: outcome.deviceId,
        registrationId: state.registrationId ?? progress.registrationId,
      };
      if (state.substatus !== undefined) result.substatus = state.substatus;
      if (state.payload !== undefined) result.payload = state.payload;
      return { kind: 'assigned', result };
    }
    case 'failed': {
      const state = outcome.registrationState;
      const details: { retryable: boolean; errorCode?: number } = { retryable: false };
      if (state?.errorCode !== undefined) details.errorCode = state.errorCode;
      const cause = [state?.errorCode, state?.errorMessage].filter((part) => part !== undefined).join(' ');
      return fail(new DpsError('assignment-failed', `DPS could not assign the device (status failed${cause ? `: ${cause}` : ''})`, details));
    }
    case 'disabled':
      return fail(new DpsError('enrollment-disabled', 'the enrollment for this device is disabled in DPS (status disabled)', { retryable: false }));
    case 'pending':
      return bounded(
        { kind: 'poll', operationId: outcome.operationId, delayMs: waitMs(answer.retryAfterSeconds, progress.limits.pollFallbackMs) },
        progress,
        `DPS still says ${outcome.status}`,
        answer,
      );
    case 'error':
      return onServiceError(outcome, answer, progress);
  }
}

function onServiceError(error: DpsServiceError, answer: DpsAnswer, progress: DpsProgress): DpsStep {
  const said = describeServiceError(error);
  if (!error.retryable) {
    const code = error.status === 401 || error.status === 403 ? 'unauthorized' : 'service-error';
    return fail(new DpsError(code, `DPS refused the registration: ${said}`, serviceDetails(error, answer, false)));
  }
  const delayMs = waitMs(answer.retryAfterSeconds, progress.limits.retryFallbackMs);
  const next: DpsStep =
    progress.operationId === undefined ? { kind: 'register', delayMs } : { kind: 'poll', operationId: progress.operationId, delayMs };
  return bounded(next, progress, `DPS answered ${said}`, answer, error);
}

/** Applies the request-count and total-time bounds to a step that would send another request. */
function bounded(step: DpsStep & { delayMs: number }, progress: DpsProgress, lastWord: string, answer: DpsAnswer, error?: DpsServiceError): DpsStep {
  const { limits } = progress;
  const details: DpsErrorDetails = error === undefined ? { retryable: true, status: answer.status } : serviceDetails(error, answer, true);
  if (progress.requestsSent >= limits.maxRequests) {
    return fail(new DpsError('too-many-requests', `no final answer after ${progress.requestsSent} requests (${lastWord})`, details));
  }
  if (progress.elapsedMs + step.delayMs > limits.totalTimeoutMs) {
    return fail(
      new DpsError('timeout', `no final answer within ${limits.totalTimeoutMs} ms (${lastWord}; next try in ${step.delayMs} ms)`, details),
    );
  }
  return step;
}

function waitMs(retryAfterSeconds: number | undefined, fallbackMs: number): number {
  return retryAfterSeconds === undefined ? fallbackMs : retryAfterSeconds * 1000;
}

function describeServiceError(error: DpsServiceError): string {
  let text = `status ${error.status}`;
  if (error.errorCode !== undefined) text += ` (errorCode ${error.errorCode})`;
  if (error.message !== undefined) text += `: ${error.message}`;
  return text;
}

function serviceDetails(error: DpsServiceError, answer: DpsAnswer, retryable: boolean): DpsErrorDetails {
  const details: DpsErrorDetails = { retryable, status: error.status };
  if (error.errorCode !== undefined) details.errorCode = error.errorCode;
  if (error.trackingId !== undefined) details.trackingId = error.trackingId;
  if (answer.retryAfterSeconds !== undefined) details.retryAfterSeconds = answer.retryAfterSeconds;
  return details;
}

function fail(error: DpsError): DpsStep {
  return { kind: 'fail', error };
}
