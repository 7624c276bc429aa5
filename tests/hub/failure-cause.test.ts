// The causes the hub client's failures are named by, and the decisions the one policy table gives them on the
// hub path (the table itself is pinned in tests/failure/failure-policy.test.ts).
import { AzureError } from '../../src/azure/azure-error';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { MqttConnectError, MqttSessionError } from '../../src/mqtt/session-errors';
import { classifyFailure, classifyStatus, decideHubFailure, hubFailureCause } from '../../src/hub/failure-cause';
import { HubError } from '../../src/hub/hub-error';

describe('CONNACK return codes', () => {
  it('retries 3, stops on 1, 2, 4, 5 and unknown codes until new credentials (or the slow retry)', () => {
    const refused = (returnCode: number): MqttConnectError => new MqttConnectError({ code: 'connack-refused', returnCode, message: 'refused' });
    expect([1, 2, 3, 4, 5, 9].map((code) => hubFailureCause(refused(code)))).toEqual(['connack-1', 'connack-2', 'connack-3', 'connack-4', 'connack-5', 'connack-other']);
    expect([1, 2, 3, 4, 5, 9].map((code) => decideHubFailure(refused(code)))).toEqual([
      'stop-until-new-credentials',
      'stop-until-new-credentials',
      'retry-backoff',
      'stop-until-new-credentials',
      'stop-until-new-credentials',
      'stop-until-new-credentials',
    ]);
  });

  it('reads the code of an auth-failed HubError, or its cause', () => {
    expect(hubFailureCause(new HubError('auth-failed', 'refused', { returnCode: 4 }))).toBe('connack-4');
    const cause = new MqttConnectError({ code: 'connack-refused', returnCode: 5, message: 'not authorized' });
    expect(hubFailureCause(new HubError('auth-failed', 'refused', { cause }))).toBe('connack-5');
    expect(hubFailureCause(new HubError('auth-failed', 'refused'))).toBe('status-401');
  });
});

describe('HTTP-like statuses of twin answers', () => {
  it('throttles 429, retries 5xx, and fails the request on any 4xx', () => {
    expect(classifyStatus(429)).toEqual({ kind: 'retryable', throttled: true });
    expect(classifyStatus(500)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyStatus(503)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyStatus(504)).toEqual({ kind: 'retryable', throttled: false });
    for (const status of [400, 401, 403, 404, 412]) expect(classifyStatus(status)).toEqual({ kind: 'final' });
  });
});

describe('transport and other failures', () => {
  it('retries transport failures and timeouts with the backoff', () => {
    for (const code of ['transport-error', 'connect-timeout', 'connack-timeout', 'peer-closed', 'ping-timeout', 'protocol-error'] as const) {
      expect(decideHubFailure(new MqttConnectError({ code, message: code }))).toBe('retry-backoff');
    }
    expect(decideHubFailure(new MqttSessionError('connection-closed', 'closed'))).toBe('retry-backoff');
  });

  it('retries a certificate the device does not trust only after the throttling floor', () => {
    for (const code of ['tls-verify', 'tls-hostname'] as const) {
      const error = new MqttConnectError({ code: 'transport-error', message: code, transportError: { code, message: code } });
      expect(decideHubFailure(error)).toBe('retry-throttled');
    }
    const reset = new MqttConnectError({ code: 'transport-error', message: 'reset', transportError: { code: 'reset', message: 'reset' } });
    expect(decideHubFailure(reset)).toBe('retry-backoff');
  });

  it('names an unencodable CONNECT and bad arguments as our own configuration', () => {
    expect(hubFailureCause(new MqttProtocolError('string-too-long', 'username too long'))).toBe('local-config');
    expect(hubFailureCause(new MqttSessionError('invalid-argument', 'bad'))).toBe('local-config');
    expect(hubFailureCause(new HubError('invalid-config', 'bad key'))).toBe('local-config');
    expect(decideHubFailure(new HubError('invalid-config', 'bad key'))).toBe('stop-until-new-credentials');
  });

  it('gives the unset clock its own decision, never an auth error', () => {
    expect(decideHubFailure(new AzureError('clock-not-set', 'clock', 'not set'))).toBe('wait-for-clock');
    expect(decideHubFailure(new HubError('clock-not-set', 'not set'))).toBe('wait-for-clock');
    expect(classifyFailure(new HubError('clock-not-set', 'not set'))).toEqual({ kind: 'clock-not-set' });
  });

  it('classifies hub status errors by their status', () => {
    expect(classifyFailure(new HubError('status', '429', { status: 429 }))).toEqual({ kind: 'retryable', throttled: true });
    expect(classifyFailure(new HubError('status', '400', { status: 400 }))).toEqual({ kind: 'final' });
    expect(classifyFailure(new HubError('timeout', 'late'))).toEqual({ kind: 'retryable', throttled: false });
  });
});
