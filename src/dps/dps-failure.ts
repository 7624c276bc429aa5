// Names the failure cause (src/failure/failure-policy.ts) behind a DpsError, so the boot flow carries out the one
// policy's decision on the `dps` path instead of judging DPS errors by itself.

import { connackCause, decideFailure, statusCause, type FailureCause, type FailureDecision } from '../failure/failure-policy';
import { transportCause } from '../failure/mqtt-cause';
import type { TransportErrorCode } from '../ports';
import type { DpsError } from './dps-errors';

const TRANSPORT_CODES: readonly string[] = ['dns', 'refused', 'timeout', 'tls-verify', 'tls-hostname', 'tls-handshake', 'reset', 'other'];

function transportOf(code: string | undefined): FailureCause {
  return transportCause(code !== undefined && TRANSPORT_CODES.includes(code) ? (code as TransportErrorCode) : undefined);
}

export function dpsFailureCause(error: DpsError): FailureCause {
  switch (error.code) {
    case 'invalid-config':
    case 'credentials':
      return 'local-config';
    case 'clock-not-set':
      return 'clock-not-set';
    case 'connect-failed':
    case 'unauthorized':
      if (error.returnCode !== undefined) return connackCause(error.returnCode);
      if (error.status !== undefined) return statusCause(error.status);
      return transportOf(error.transportCode);
    case 'subscribe-refused':
      return 'dps-subscribe-refused';
    case 'assignment-failed':
      return 'dps-failed';
    case 'enrollment-disabled':
      return 'dps-disabled';
    case 'bad-response':
      return 'dps-unreadable';
    case 'service-error':
    case 'too-many-requests':
    case 'timeout':
      // The bounds were reached: the last answer's status says why (DPS kept throttling, or kept failing).
      return error.status !== undefined && error.status >= 400 ? statusCause(error.status) : 'network';
    case 'connection-lost':
      return transportOf(error.transportCode);
    case 'cancelled':
    case 'busy':
      return 'network';
  }
}

export function decideDpsFailure(error: DpsError): FailureDecision {
  return decideFailure('dps', dpsFailureCause(error));
}
