// How the HubClient's failures map to the boot flow's three kinds, and the credentials handed to it.
import { hubCredentialsFor, hubErrorFailure } from '../../src/boot/hub-client-connector';
import { sessionFailureKind } from '../../src/failure/assigned-hub';
import { HubError } from '../../src/hub/hub-error';
import { MqttConnectError } from '../../src/mqtt/session-errors';
import type { SessionCloseReason } from '../../src/mqtt/session-types';

const reason = (over: Partial<SessionCloseReason>): SessionCloseReason => ({ code: 'transport-error', message: 'm', ...over });

describe('sessionFailureKind', () => {
  test.each([
    [reason({ transportError: { code: 'dns', message: '' } }), 'network'],
    [reason({ transportError: { code: 'refused', message: '' } }), 'network'],
    [reason({ transportError: { code: 'reset', message: '' } }), 'network'],
    [reason({ transportError: { code: 'timeout', message: '' } }), 'network'],
    [reason({ transportError: { code: 'tls-verify', message: '' } }), 'other'],
    [reason({ transportError: { code: 'tls-handshake', message: '' } }), 'other'],
    [reason({ code: 'connect-timeout' }), 'network'],
    [reason({ code: 'connack-timeout' }), 'network'],
    [reason({ code: 'ping-timeout' }), 'network'],
    [reason({ code: 'peer-closed' }), 'network'],
    [reason({ code: 'connack-refused', returnCode: 5 }), 'auth'],
    [reason({ code: 'connack-refused', returnCode: 4 }), 'auth'],
    [reason({ code: 'connack-refused', returnCode: 3 }), 'other'],
    [reason({ code: 'protocol-error' }), 'other'],
    [undefined, 'other'],
  ])('%j is %s', (input, kind) => {
    expect(sessionFailureKind(input)).toBe(kind);
  });
});

describe('hubErrorFailure', () => {
  test('auth-failed and invalid-config are final; connect-failed follows its cause; the rest is not a connection failure', () => {
    expect(hubErrorFailure(new HubError('auth-failed', 'refused'))).toEqual({ kind: 'auth', message: 'refused', final: true });
    expect(hubErrorFailure(new HubError('invalid-config', 'bad'))).toEqual({ kind: 'other', message: 'bad', final: true });
    const refused = new MqttConnectError(reason({ transportError: { code: 'refused', message: '' } }));
    expect(hubErrorFailure(new HubError('connect-failed', 'x', { cause: refused }))).toEqual({ kind: 'network', message: 'x', final: false });
    const busy = new MqttConnectError(reason({ code: 'connack-refused', returnCode: 3 }));
    expect(hubErrorFailure(new HubError('connect-failed', 'y', { cause: busy }))).toEqual({ kind: 'other', message: 'y', final: false });
    expect(hubErrorFailure(new HubError('timeout', 'twin'))).toBeUndefined();
    expect(hubErrorFailure(new HubError('clock-not-set', 'no time'))).toBeUndefined();
  });
});

describe('credentials for the hub', () => {
  test('SAS and X.509 targets become HubClient credentials', () => {
    expect(hubCredentialsFor({ hubHost: 'h:1', deviceId: 'd', credential: { kind: 'sas', key: 'AAAA' } })).toEqual({
      kind: 'hub',
      hostName: 'h:1',
      deviceId: 'd',
      credential: { kind: 'sas', key: 'AAAA' },
    });
    const chain = [new Uint8Array([1])];
    const key = new Uint8Array([2]);
    expect(hubCredentialsFor({ hubHost: 'h', deviceId: 'd', credential: { kind: 'x509', chain, privateKey: key } })).toEqual({
      kind: 'hub',
      hostName: 'h',
      deviceId: 'd',
      credential: { kind: 'x509', chain, privateKey: key },
    });
  });
});
