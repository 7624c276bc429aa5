// Decides what a failure means for the retry loop. Retrying is right for failures that time can cure
// (network, throttling, a busy hub) and wrong for ones it cannot: retrying refused credentials just makes the
// hub throttle or block the device, so those stop the loop until the credentials change. A clock that was never
// set is its own class: signing is refused before anything is sent, so it can never turn into a 401 loop.

import { AzureError } from '../azure/azure-error';
import { MqttProtocolError } from '../mqtt/protocol-error';
import { MqttConnectError, MqttSessionError } from '../mqtt/session-errors';
import { HubError } from './hub-error';

export type FailureClass =
  /** Try again after the backoff; `throttled` asks for the longer floor. */
  | { kind: 'retryable'; throttled: boolean }
  /** The hub refused these credentials (CONNACK 2, 4, 5; 401, 403): wait for new ones. */
  | { kind: 'auth'; returnCode?: number; status?: number }
  /** The wall clock is not set: nothing can be signed yet. */
  | { kind: 'clock-not-set' }
  /** A configuration or protocol mistake that retrying cannot fix (CONNACK 1, a packet we cannot encode). */
  | { kind: 'fatal' };

const RETRY: FailureClass = { kind: 'retryable', throttled: false };
const RETRY_THROTTLED: FailureClass = { kind: 'retryable', throttled: true };

export function classifyConnackCode(returnCode: number): FailureClass {
  switch (returnCode) {
    case 3:
      return RETRY;
    case 2:
    case 4:
    case 5:
      return { kind: 'auth', returnCode };
    default:
      return { kind: 'fatal' };
  }
}

/** For statuses >= 400 (twin and method answers, DPS-style errors); anything below is success, not a failure. */
export function classifyStatus(status: number): FailureClass {
  if (status === 429) return RETRY_THROTTLED;
  if (status >= 500 && status < 600) return RETRY;
  if (status === 401 || status === 403) return { kind: 'auth', status };
  return { kind: 'fatal' };
}

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof MqttConnectError) {
    if (error.returnCode !== undefined) return classifyConnackCode(error.returnCode);
    // A certificate the device does not trust rarely heals by itself (a server-side rollover, a fixed DNS entry
    // may cure it), so keep trying, but at the throttling floor rather than the short backoff.
    const transportCode = error.reason.transportError?.code;
    if (transportCode === 'tls-verify' || transportCode === 'tls-hostname') return RETRY_THROTTLED;
    // A protocol error while connecting is the broker misbehaving, which a new connection may not repeat.
    return RETRY;
  }
  if (error instanceof MqttSessionError) {
    return error.code === 'invalid-argument' || error.code === 'qos2-unsupported' ? { kind: 'fatal' } : RETRY;
  }
  if (error instanceof MqttProtocolError) return { kind: 'fatal' };
  if (error instanceof AzureError) return error.code === 'clock-not-set' ? { kind: 'clock-not-set' } : { kind: 'fatal' };
  if (error instanceof HubError) {
    switch (error.code) {
      case 'clock-not-set':
        return { kind: 'clock-not-set' };
      case 'auth-failed':
        return { kind: 'auth', ...(error.returnCode === undefined ? {} : { returnCode: error.returnCode }) };
      case 'invalid-config':
      case 'invalid-argument':
      case 'too-large':
        return { kind: 'fatal' };
      case 'status':
        return error.status === undefined ? RETRY : classifyStatus(error.status);
      default:
        return RETRY;
    }
  }
  return RETRY;
}
