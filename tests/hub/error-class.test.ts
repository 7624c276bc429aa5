import { AzureError } from '../../src/azure/azure-error';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { MqttConnectError, MqttSessionError } from '../../src/mqtt/session-errors';
import { classifyConnackCode, classifyFailure, classifyStatus } from '../../src/hub/error-class';
import { HubError } from '../../src/hub/hub-error';

describe('CONNACK return codes', () => {
  it('retries 3, stops on 2, 4 and 5 as auth errors, and 1 as fatal', () => {
    expect(classifyConnackCode(3)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyConnackCode(2)).toEqual({ kind: 'auth', returnCode: 2 });
    expect(classifyConnackCode(4)).toEqual({ kind: 'auth', returnCode: 4 });
    expect(classifyConnackCode(5)).toEqual({ kind: 'auth', returnCode: 5 });
    expect(classifyConnackCode(1)).toEqual({ kind: 'fatal' });
    expect(classifyConnackCode(9)).toEqual({ kind: 'fatal' });
  });

  it('reads the code from a session MqttConnectError', () => {
    const refused = new MqttConnectError({ code: 'connack-refused', returnCode: 5, message: 'not authorized' });
    expect(classifyFailure(refused)).toEqual({ kind: 'auth', returnCode: 5 });
    const busy = new MqttConnectError({ code: 'connack-refused', returnCode: 3, message: 'unavailable' });
    expect(classifyFailure(busy)).toEqual({ kind: 'retryable', throttled: false });
  });
});

describe('HTTP-like statuses', () => {
  it('throttles 429, retries 5xx, stops on 401/403, and gives up on other 4xx', () => {
    expect(classifyStatus(429)).toEqual({ kind: 'retryable', throttled: true });
    expect(classifyStatus(500)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyStatus(503)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyStatus(504)).toEqual({ kind: 'retryable', throttled: false });
    expect(classifyStatus(401)).toEqual({ kind: 'auth', status: 401 });
    expect(classifyStatus(403)).toEqual({ kind: 'auth', status: 403 });
    expect(classifyStatus(400)).toEqual({ kind: 'fatal' });
    expect(classifyStatus(404)).toEqual({ kind: 'fatal' });
  });
});

describe('transport and other failures', () => {
  it('retries transport failures and timeouts', () => {
    for (const code of ['transport-error', 'connect-timeout', 'connack-timeout', 'peer-closed', 'ping-timeout', 'protocol-error'] as const) {
      expect(classifyFailure(new MqttConnectError({ code, message: code }))).toEqual({ kind: 'retryable', throttled: false });
    }
    expect(classifyFailure(new MqttSessionError('connection-closed', 'closed'))).toEqual({ kind: 'retryable', throttled: false });
  });

  it('retries a certificate the device does not trust only after the throttling floor', () => {
    for (const code of ['tls-verify', 'tls-hostname'] as const) {
      const error = new MqttConnectError({ code: 'transport-error', message: code, transportError: { code, message: code } });
      expect(classifyFailure(error)).toEqual({ kind: 'retryable', throttled: true });
    }
    const reset = new MqttConnectError({ code: 'transport-error', message: 'reset', transportError: { code: 'reset', message: 'reset' } });
    expect(classifyFailure(reset)).toEqual({ kind: 'retryable', throttled: false });
  });

  it('treats an unencodable CONNECT and bad arguments as fatal', () => {
    expect(classifyFailure(new MqttProtocolError('string-too-long', 'username too long'))).toEqual({ kind: 'fatal' });
    expect(classifyFailure(new MqttSessionError('invalid-argument', 'bad'))).toEqual({ kind: 'fatal' });
    expect(classifyFailure(new HubError('invalid-config', 'bad key'))).toEqual({ kind: 'fatal' });
  });

  it('gives the unset clock its own class, never an auth error', () => {
    expect(classifyFailure(new AzureError('clock-not-set', 'clock', 'not set'))).toEqual({ kind: 'clock-not-set' });
    expect(classifyFailure(new HubError('clock-not-set', 'not set'))).toEqual({ kind: 'clock-not-set' });
  });

  it('classifies hub status errors by their status', () => {
    expect(classifyFailure(new HubError('status', '429', { status: 429 }))).toEqual({ kind: 'retryable', throttled: true });
    expect(classifyFailure(new HubError('status', '400', { status: 400 }))).toEqual({ kind: 'fatal' });
    expect(classifyFailure(new HubError('timeout', 'late'))).toEqual({ kind: 'retryable', throttled: false });
  });
});
