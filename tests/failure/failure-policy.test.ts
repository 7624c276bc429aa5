// The one failure policy (src/failure/failure-policy.ts): the table itself, pinned row by row, and every failure
// input as the clients really produce it (MQTT connect errors, TLS failures, DPS answers and registration
// statuses) read through the same table, on the hub, on a hub DPS assigned, and on DPS.
import { describe, expect, test } from '@jest/globals';
import { hubErrorFailure } from '../../src/boot/hub-client-connector';
import { connectError } from '../../src/dps/dps-client';
import { DpsError } from '../../src/dps/dps-errors';
import { decideDpsFailure, dpsFailureCause } from '../../src/dps/dps-failure';
import { DEFAULT_DPS_LIMITS } from '../../src/dps/dps-options';
import { decideStep, type DpsProgress } from '../../src/dps/dps-steps';
import { FAILURE_POLICY, decideFailure, isRetry, transportForAttempt, type FailureDecision } from '../../src/failure/failure-policy';
import { decideHubFailure, stoppedError } from '../../src/hub/failure-cause';
import { HubError } from '../../src/hub/hub-error';
import { MqttConnectError } from '../../src/mqtt/session-errors';
import type { TransportErrorCode } from '../../src/ports';

const B: FailureDecision = 'retry-backoff';
const T: FailureDecision = 'retry-throttled';
const R: FailureDecision = 'reprovision';
const S: FailureDecision = 'stop-until-new-credentials';
const C: FailureDecision = 'wait-for-clock';

describe('the table', () => {
  test('every cause has exactly these decisions (hub | assigned hub | DPS | firmware download)', () => {
    expect(FAILURE_POLICY).toEqual({
      network: { hub: B, assignedHub: B, dps: B, fota: B },
      'tls-verify': { hub: T, assignedHub: T, dps: T, fota: T },
      'tls-hostname': { hub: T, assignedHub: T, dps: T, fota: T },
      'tls-handshake': { hub: B, assignedHub: B, dps: B, fota: B },
      protocol: { hub: B, assignedHub: B, dps: B, fota: B },
      'connack-1': { hub: S, assignedHub: S, dps: S, fota: S },
      'connack-2': { hub: S, assignedHub: R, dps: S, fota: S },
      'connack-3': { hub: B, assignedHub: B, dps: B, fota: B },
      'connack-4': { hub: S, assignedHub: R, dps: S, fota: S },
      'connack-5': { hub: S, assignedHub: R, dps: S, fota: S },
      'connack-other': { hub: S, assignedHub: S, dps: S, fota: S },
      'status-401': { hub: S, assignedHub: R, dps: S, fota: S },
      'status-403': { hub: S, assignedHub: R, dps: S, fota: S },
      'status-404': { hub: S, assignedHub: S, dps: S, fota: S },
      'status-429': { hub: T, assignedHub: T, dps: T, fota: T },
      'status-5xx': { hub: B, assignedHub: B, dps: B, fota: B },
      'status-4xx': { hub: S, assignedHub: S, dps: S, fota: S },
      'clock-not-set': { hub: C, assignedHub: C, dps: C, fota: C },
      'local-config': { hub: S, assignedHub: S, dps: S, fota: S },
      'dps-disabled': { dps: S },
      'dps-failed': { dps: S },
      'dps-unreadable': { dps: B },
      'dps-subscribe-refused': { dps: S },
      'http-short-read': { fota: B },
      'http-short-file': { fota: S },
      'http-redirect': { fota: S },
      'http-bad-response': { fota: B },
    });
  });

  test('nothing that time can cure is final: every network, TLS, throttling and server cause retries on every path', () => {
    const transient = ['network', 'tls-verify', 'tls-hostname', 'tls-handshake', 'protocol', 'connack-3', 'status-429', 'status-5xx', 'clock-not-set'] as const;
    for (const cause of transient) {
      for (const path of ['hub', 'assigned-hub', 'dps', 'fota'] as const) expect([cause, path, isRetry(decideFailure(path, cause))]).toEqual([cause, path, true]);
    }
  });
});

// ---- the inputs, as the clients produce them ----

const connack = (returnCode: number): MqttConnectError =>
  new MqttConnectError({ code: 'connack-refused', returnCode, message: `broker refused the connection: return code ${returnCode}` });
const tls = (code: TransportErrorCode): MqttConnectError =>
  new MqttConnectError({ code: 'transport-error', message: `transport failed (${code})`, transportError: { code, message: code } });

/** What the boot flow does when a hub DPS assigned fails like this (the hub client reports it, the link reads it). */
function onAssignedHub(error: MqttConnectError): FailureDecision {
  const decision = decideHubFailure(error);
  const reported = isRetry(decision)
    ? new HubError('connect-failed', `connecting failed: ${error.message}`, { retryable: true, cause: error })
    : stoppedError(error, 900_000);
  const failure = hubErrorFailure(reported);
  if (failure === undefined) throw new Error('not a connection failure');
  if (failure.kind === 'auth') return 'reprovision';
  if (failure.final) return 'stop-until-new-credentials';
  // The boot flow leaves the retrying to the hub client; it only counts the failure against the assignment.
  return decision;
}

const progress = (over: Partial<DpsProgress> = {}): DpsProgress => ({ registrationId: 'dev-1', requestsSent: 1, elapsedMs: 0, limits: DEFAULT_DPS_LIMITS, ...over });
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

/** The DpsError a registration ends with after DPS answers `status` with `body` (at the request bound for retries). */
function dpsAnswer(status: number, body: string): DpsError {
  const step = decideStep({ status, payload: bytes(body) }, progress({ requestsSent: DEFAULT_DPS_LIMITS.maxRequests }));
  if (step.kind !== 'fail') throw new Error(`expected a final step, got ${step.kind}`);
  return step.error;
}

describe('every failure input, with its decision', () => {
  const cases: Array<[string, () => FailureDecision, FailureDecision]> = [
    ['hub CONNACK 1', () => decideHubFailure(connack(1)), S],
    ['hub CONNACK 2', () => decideHubFailure(connack(2)), S],
    ['hub CONNACK 3', () => decideHubFailure(connack(3)), B],
    ['hub CONNACK 4', () => decideHubFailure(connack(4)), S],
    ['hub CONNACK 5', () => decideHubFailure(connack(5)), S],
    ['hub TLS verify', () => decideHubFailure(tls('tls-verify')), T],
    ['hub TLS hostname', () => decideHubFailure(tls('tls-hostname')), T],
    ['hub DNS', () => decideHubFailure(tls('dns')), B],
    ['hub connect timeout', () => decideHubFailure(new MqttConnectError({ code: 'connect-timeout', message: 'late' })), B],
    ['assigned hub CONNACK 1', () => onAssignedHub(connack(1)), S],
    ['assigned hub CONNACK 2', () => onAssignedHub(connack(2)), R],
    ['assigned hub CONNACK 3', () => onAssignedHub(connack(3)), B],
    ['assigned hub CONNACK 4', () => onAssignedHub(connack(4)), R],
    ['assigned hub CONNACK 5', () => onAssignedHub(connack(5)), R],
    ['assigned hub TLS verify', () => onAssignedHub(tls('tls-verify')), T],
    ['assigned hub TLS hostname', () => onAssignedHub(tls('tls-hostname')), T],
    ['DPS CONNACK 1', () => decideDpsFailure(connectError(connack(1))), S],
    ['DPS CONNACK 2', () => decideDpsFailure(connectError(connack(2))), S],
    ['DPS CONNACK 3', () => decideDpsFailure(connectError(connack(3))), B],
    ['DPS CONNACK 4', () => decideDpsFailure(connectError(connack(4))), S],
    ['DPS CONNACK 5', () => decideDpsFailure(connectError(connack(5))), S],
    ['DPS TLS verify', () => decideDpsFailure(connectError(tls('tls-verify'))), T],
    ['DPS TLS hostname', () => decideDpsFailure(connectError(tls('tls-hostname'))), T],
    ['DPS 401', () => decideDpsFailure(dpsAnswer(401, '{"errorCode":401002,"message":"not authorized"}')), S],
    ['DPS 403', () => decideDpsFailure(dpsAnswer(403, '{"errorCode":403001}')), S],
    ['DPS 404', () => decideDpsFailure(dpsAnswer(404, '{"errorCode":404201,"message":"not found"}')), S],
    ['DPS 400', () => decideDpsFailure(dpsAnswer(400, '{"errorCode":400004}')), S],
    ['DPS 429 until the bound', () => decideDpsFailure(dpsAnswer(429, '{"errorCode":429001}')), T],
    ['DPS 500 until the bound', () => decideDpsFailure(dpsAnswer(500, '')), B],
    ['DPS 503 until the bound', () => decideDpsFailure(dpsAnswer(503, '{"errorCode":503000}')), B],
    ['DPS disabled', () => decideDpsFailure(dpsAnswer(200, '{"operationId":"op","status":"disabled","registrationState":{"status":"disabled"}}')), S],
    ['DPS failed', () => decideDpsFailure(dpsAnswer(200, '{"operationId":"op","status":"failed","registrationState":{"status":"failed","errorCode":400207}}')), S],
    ['DPS unreadable body', () => decideDpsFailure(dpsAnswer(200, '{"status":"assigned"}')), B],
    ['DPS clock not set', () => decideDpsFailure(new DpsError('clock-not-set', 'no time', { retryable: true })), C],
    ['DPS connection lost', () => decideDpsFailure(new DpsError('connection-lost', 'gone', { retryable: true, transportCode: 'reset' })), B],
  ];

  test.each(cases)('%s: %s', (_name, decide, expected) => {
    expect(decide()).toBe(expected);
  });
});

describe('DpsError.retryable agrees with the policy', () => {
  test.each([
    ['CONNACK 2', connectError(connack(2))],
    ['CONNACK 3', connectError(connack(3))],
    ['CONNACK 5', connectError(connack(5))],
    ['TLS verify', connectError(tls('tls-verify'))],
    ['TLS hostname', connectError(tls('tls-hostname'))],
    ['DNS', connectError(tls('dns'))],
    ['401', dpsAnswer(401, '{"errorCode":401002}')],
    ['429', dpsAnswer(429, '')],
    ['disabled', dpsAnswer(200, '{"operationId":"op","status":"disabled"}')],
  ])('%s', (_name, error) => {
    expect([dpsFailureCause(error), error.retryable]).toEqual([dpsFailureCause(error), isRetry(decideDpsFailure(error))]);
  });

  test('a refused identity is `unauthorized` with its CONNACK code; a TLS failure names its transport class', () => {
    expect(connectError(connack(2))).toMatchObject({ code: 'unauthorized', returnCode: 2, retryable: false });
    expect(connectError(tls('tls-verify'))).toMatchObject({ code: 'connect-failed', transportCode: 'tls-verify', retryable: true });
  });
});

describe('the reason a stop gives', () => {
  test('refused credentials are auth-failed with the CONNACK code and say when the next try comes', () => {
    const error = stoppedError(connack(5), 900_000);
    expect(error).toMatchObject({ code: 'auth-failed', returnCode: 5 });
    expect(error.message).toBe(
      'the hub refused the credentials: broker refused the connection: return code 5; trying again in 900 s, or at once on updateCredentials()',
    );
  });

  test('anything else is the configuration problem itself', () => {
    const own = new HubError('invalid-config', 'bad key');
    expect(stoppedError(own, 1000)).toBe(own);
    expect(stoppedError(connack(1), 1000)).toMatchObject({ code: 'invalid-config' });
  });
});

describe('transport for the next attempt: MQTT on 8883, then WebSockets on 443 after N failures, by turns', () => {
  test('mqtt with fallbackAfter 3: 3 attempts on MQTT, 3 on WebSockets, then MQTT again', () => {
    const seq = Array.from({ length: 9 }, (_, failures) => transportForAttempt('mqtt', failures, 3));
    expect(seq).toEqual(['mqtt', 'mqtt', 'mqtt', 'mqtt-ws', 'mqtt-ws', 'mqtt-ws', 'mqtt', 'mqtt', 'mqtt']);
  });

  test('mqtt-ws configured falls back to MQTT the same way', () => {
    expect([0, 1, 2, 3].map((failures) => transportForAttempt('mqtt-ws', failures, 2))).toEqual(['mqtt-ws', 'mqtt-ws', 'mqtt', 'mqtt']);
  });

  test('fallbackAfter 0 keeps the configured transport whatever happens', () => {
    expect([0, 5, 500].map((failures) => transportForAttempt('mqtt', failures, 0))).toEqual(['mqtt', 'mqtt', 'mqtt']);
  });
});
