// Names the failure cause behind whatever the hub client's attempts and requests end with (MQTT errors, Azure
// signing errors, HubErrors), so the one policy table in src/failure/failure-policy.ts can decide what happens.
// Nothing here decides; the twin channel's view (retryable or not, throttled or not) is read off the table too.

import { AzureError } from '../azure/azure-error';
import { errorText } from '../errors';
import { decideFailure, statusCause, connackCause, type FailureDecision, type SharedFailureCause } from '../failure/failure-policy';
import { mqttErrorCause } from '../failure/mqtt-cause';
import { MqttSessionError } from '../mqtt/session-errors';
import { HubError } from './hub-error';

export function hubFailureCause(error: unknown): SharedFailureCause {
  const mqtt = mqttErrorCause(error);
  if (mqtt !== undefined) return mqtt;
  if (error instanceof AzureError) return error.code === 'clock-not-set' ? 'clock-not-set' : 'local-config';
  if (!(error instanceof HubError)) return 'network';
  switch (error.code) {
    case 'clock-not-set':
      return 'clock-not-set';
    case 'auth-failed':
      if (error.returnCode !== undefined) return connackCause(error.returnCode);
      return error.cause === undefined ? 'status-401' : hubFailureCause(error.cause);
    case 'invalid-config':
    case 'invalid-argument':
    case 'too-large':
      return 'local-config';
    case 'status':
      return error.status === undefined ? 'network' : statusCause(error.status);
    case 'connect-failed':
      return error.cause === undefined ? 'network' : hubFailureCause(error.cause);
    default:
      return 'network';
  }
}

/** What the hub client does after `error` (a failed attempt, a failed request). */
export function decideHubFailure(error: unknown): FailureDecision {
  return decideFailure('hub', hubFailureCause(error));
}

/** The twin channel's view of a decision: retry a request (maybe after the throttling floor), or fail it. */
export type FailureClass = { kind: 'retryable'; throttled: boolean } | { kind: 'clock-not-set' } | { kind: 'final' };

function asClass(decision: FailureDecision): FailureClass {
  switch (decision) {
    case 'retry-backoff':
      return { kind: 'retryable', throttled: false };
    case 'retry-throttled':
      return { kind: 'retryable', throttled: true };
    case 'wait-for-clock':
      return { kind: 'clock-not-set' };
    default:
      return { kind: 'final' };
  }
}

/** For statuses >= 400 of twin answers. */
export function classifyStatus(status: number): FailureClass {
  return asClass(decideFailure('hub', statusCause(status)));
}

export function classifyFailure(error: unknown): FailureClass {
  return asClass(decideHubFailure(error));
}

function inWords(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** The error a stop reports: 'auth-failed' for refused credentials, else the configuration problem. */
export function stoppedError(error: unknown, retryInMs: number): HubError {
  const cause = hubFailureCause(error);
  const text = errorText(error);
  if (cause === 'connack-2' || cause === 'connack-4' || cause === 'connack-5' || cause === 'status-401' || cause === 'status-403') {
    const returnCode = (error as { returnCode?: unknown } | undefined)?.returnCode;
    return new HubError('auth-failed', `the hub refused the credentials: ${text}; trying again in ${inWords(retryInMs)}, or at once on updateCredentials()`, {
      ...(typeof returnCode === 'number' ? { returnCode } : {}),
      cause: error,
    });
  }
  if (error instanceof HubError) return error;
  return new HubError('invalid-config', `connecting cannot succeed as configured: ${text}`, { cause: error });
}

/** A PUBLISH the session gave back because its connection ended first: it never reached the hub, so it can go again. */
export function notWritten(error: unknown): boolean {
  return error instanceof MqttSessionError && (error.code === 'connection-closed' || error.code === 'not-connected');
}
