// What the hub client does after a connection attempt failed, as one pure function of the failure and the
// client's situation: the failure policy (src/failure/failure-policy.ts) names the decision, this turns it into
// a step with its delay and what to report. The client only carries steps out, so every rule here (which
// failures are reported, the clock re-check cap, the slow retry after a stop) is testable without I/O.

import { backoffDelay, slowRetryDelay, type BackoffPolicy } from '../failure/backoff';
import { errorText } from '../errors';
import { decideHubFailure, stoppedError } from './failure-cause';
import { HubError } from './hub-error';

/** While the wall clock is unset the client re-checks it at least this often (no network traffic involved). */
export const CLOCK_CHECK_MAX_MS = 10_000;

export interface FailedAttempt {
  error: unknown;
  /** Failed attempts in a row before this one: the backoff exponent. */
  failures: number;
  /** How long the attempt took; a long one shortens the wait that follows. */
  spentMs: number;
  /** updateCredentials() came while the attempt was under way: the new ones are tried before any stop. */
  credentialsChanged: boolean;
  /** A clock error was reported already since the last connection: it is reported once, not every check. */
  clockReported: boolean;
  /** A random number in [0, 1) for the jitter. */
  random: number;
  backoff: BackoffPolicy;
  stoppedRetryMs: number;
}

export type AttemptStep =
  /** Try again after `delayMs` ('waiting'), reporting `report` first when there is one. */
  | { kind: 'retry'; delayMs: number; report?: HubError }
  /** Nothing was sent: reject connect() with `error` (reported if `report`), check the clock again after `delayMs`. */
  | { kind: 'wait-for-clock'; delayMs: number; error: HubError; report: boolean }
  /** Stop the fast loop ('stopped'): report and reject with `error`, one more attempt after the slow `delayMs`. */
  | { kind: 'stop'; delayMs: number; error: HubError };

export function decideAttemptStep(failed: FailedAttempt): AttemptStep {
  const decision = decideHubFailure(failed.error);
  const backoff = (throttled: boolean): number =>
    backoffDelay({ attempt: failed.failures, attemptDurationMs: failed.spentMs, throttled, random: failed.random }, failed.backoff);
  switch (decision) {
    case 'retry-backoff':
    case 'retry-throttled': {
      const report = new HubError('connect-failed', `connecting failed: ${errorText(failed.error)}`, { retryable: true, cause: failed.error });
      return { kind: 'retry', delayMs: backoff(decision === 'retry-throttled'), report };
    }
    case 'wait-for-clock': {
      const error = failed.error instanceof HubError ? failed.error : new HubError('clock-not-set', errorText(failed.error), { cause: failed.error });
      // Often enough that the device connects soon after SNTP answers.
      return { kind: 'wait-for-clock', delayMs: Math.min(CLOCK_CHECK_MAX_MS, backoff(false)), error, report: !failed.clockReported };
    }
    default: {
      if (failed.credentialsChanged) return { kind: 'retry', delayMs: backoff(false) };
      // 'reprovision' is the boot flow's to carry out; the client stops the same way as for refused credentials.
      const delayMs = slowRetryDelay(failed.stoppedRetryMs, failed.random);
      return { kind: 'stop', delayMs, error: stoppedError(failed.error, delayMs) };
    }
  }
}
