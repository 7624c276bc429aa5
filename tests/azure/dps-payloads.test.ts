import { buildDpsRegisterBody, isFinalDpsStatus, parseDpsResponse } from '../../src/azure/dps-payloads';
import type { JsonValue } from '../../src/azure/json';
import { errorOf, unwrap } from './support';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('DPS register body', () => {
  test('registration id alone', () => {
    expect(unwrap(buildDpsRegisterBody('reg-1'))).toBe('{"registrationId":"reg-1"}');
  });

  test('with a custom payload', () => {
    expect(unwrap(buildDpsRegisterBody('reg-1', { modelId: 'dtmi:com:example:Thermostat;1' }))).toBe(
      '{"registrationId":"reg-1","payload":{"modelId":"dtmi:com:example:Thermostat;1"}}',
    );
  });

  // Azure's vector: the .NET SDK's PnpConvention.CreateDpsPayload documents the DPS payload of a Plug and Play
  // device as {"modelId": "dtmi:com:example:modelName;1"}; IoT Central assigns the device template by it.
  test('a model id goes in as payload.modelId, the form Azure documents for Plug and Play and IoT Central', () => {
    expect(unwrap(buildDpsRegisterBody('mydevice', undefined, 'dtmi:com:example:modelName;1'))).toBe(
      '{"registrationId":"mydevice","payload":{"modelId":"dtmi:com:example:modelName;1"}}',
    );
  });

  test('a model id joins what a custom payload object holds; a payload that is not an object is refused by name', () => {
    expect(unwrap(buildDpsRegisterBody('reg-1', { site: 'B' }, 'dtmi:com:example:Thermostat;1'))).toBe(
      '{"registrationId":"reg-1","payload":{"site":"B","modelId":"dtmi:com:example:Thermostat;1"}}',
    );
    const refused = errorOf(buildDpsRegisterBody('reg-1', 'text', 'dtmi:com:example:Thermostat;1'));
    expect(refused.field).toBe('payload');
    expect(refused.message).toContain('modelId');
  });

  test('bad registration id or unserializable payload', () => {
    expect(errorOf(buildDpsRegisterBody('reg 1')).field).toBe('registrationId');
    expect(errorOf(buildDpsRegisterBody('reg-1', { n: BigInt(1) } as unknown as JsonValue)).field).toBe('payload');
  });
});

describe('DPS operation bodies', () => {
  test('202 assigning means poll', () => {
    const body = bytes('{"operationId":"4.abc","status":"assigning"}');
    expect(unwrap(parseDpsResponse(202, body))).toEqual({ kind: 'pending', operationId: '4.abc', status: 'assigning' });
  });

  test('assigned takes hub and device id from registrationState (the device id may differ)', () => {
    const body = bytes(
      JSON.stringify({
        operationId: '4.abc',
        status: 'assigned',
        registrationState: {
          registrationId: 'reg-1',
          createdDateTimeUtc: '2024-01-01T00:00:00Z',
          assignedHub: 'contoso.azure-devices.net',
          deviceId: 'device-from-dps',
          status: 'assigned',
          substatus: 'initialAssignment',
          lastUpdatedDateTimeUtc: '2024-01-01T00:00:01Z',
          etag: 'IjAwMDAi',
          payload: { tier: 'gold' },
          unknownExtra: 1,
        },
      }),
    );
    expect(unwrap(parseDpsResponse(200, body))).toEqual({
      kind: 'assigned',
      operationId: '4.abc',
      assignedHub: 'contoso.azure-devices.net',
      deviceId: 'device-from-dps',
      registrationState: {
        registrationId: 'reg-1',
        createdDateTimeUtc: '2024-01-01T00:00:00Z',
        assignedHub: 'contoso.azure-devices.net',
        deviceId: 'device-from-dps',
        status: 'assigned',
        substatus: 'initialAssignment',
        lastUpdatedDateTimeUtc: '2024-01-01T00:00:01Z',
        etag: 'IjAwMDAi',
        payload: { tier: 'gold' },
      },
    });
  });

  test('failed and disabled are final, with the error from registrationState', () => {
    const failed = '{"operationId":"o","status":"failed","registrationState":{"registrationId":"r","status":"failed","errorCode":400209,"errorMessage":"Custom allocation failed"}}';
    expect(unwrap(parseDpsResponse(200, failed))).toEqual({
      kind: 'failed',
      operationId: 'o',
      registrationState: { registrationId: 'r', status: 'failed', errorCode: 400209, errorMessage: 'Custom allocation failed' },
    });
    expect(unwrap(parseDpsResponse(200, '{"operationId":"o","status":"disabled"}'))).toEqual({ kind: 'disabled', operationId: 'o' });
  });

  test('malformed success bodies are named', () => {
    expect(errorOf(parseDpsResponse(200, 'nope')).code).toBe('invalid-json');
    expect(errorOf(parseDpsResponse(200, '[]')).message).toBe('dps response: is not a JSON object');
    expect(errorOf(parseDpsResponse(200, '{"status":"assigning"}')).field).toBe('dps response.operationId');
    expect(errorOf(parseDpsResponse(200, '{"operationId":"o","status":"done"}')).message).toBe(
      'dps response.status: is not one of unassigned, assigning, assigned, failed, disabled',
    );
    expect(errorOf(parseDpsResponse(200, '{"operationId":"o","status":"assigned"}')).field).toBe('dps response.registrationState');
    expect(errorOf(parseDpsResponse(200, '{"operationId":"o","status":"assigned","registrationState":{"assignedHub":"h"}}')).field).toBe(
      'registrationState.deviceId',
    );
    expect(
      errorOf(parseDpsResponse(200, '{"operationId":"o","status":"assigned","registrationState":{"assignedHub":"h/x","deviceId":"d"}}')).field,
    ).toBe('registrationState.assignedHub');
    expect(errorOf(parseDpsResponse(200, Uint8Array.from([0xff]))).code).toBe('invalid-utf8');
  });
});

describe('final answers with an empty or missing operationId', () => {
  // The shape of the disabled body in the Azure SDK for Embedded C's parser test: DPS names no operation.
  const disabled = '{"operationId":"","status":"disabled","registrationState":{"registrationId":"reg-1","status":"disabled"}}';

  test('disabled with operationId "" is the final disabled outcome', () => {
    expect(unwrap(parseDpsResponse(200, bytes(disabled)))).toEqual({
      kind: 'disabled',
      operationId: '',
      registrationState: { registrationId: 'reg-1', status: 'disabled' },
    });
  });

  test('failed with operationId "" or none is the final failed outcome, with its error', () => {
    const state = { registrationId: 'reg-1', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed' };
    expect(unwrap(parseDpsResponse(200, JSON.stringify({ operationId: '', status: 'failed', registrationState: state })))).toEqual({
      kind: 'failed',
      operationId: '',
      registrationState: state,
    });
    expect(unwrap(parseDpsResponse(200, JSON.stringify({ status: 'failed', registrationState: state })))).toEqual({
      kind: 'failed',
      operationId: '',
      registrationState: state,
    });
    expect(unwrap(parseDpsResponse(200, '{"status":"disabled"}'))).toEqual({ kind: 'disabled', operationId: '' });
  });

  test('a pending answer still needs an operation id to poll', () => {
    for (const body of ['{"status":"assigning"}', '{"operationId":"","status":"assigning"}', '{"operationId":"","status":"unassigned"}']) {
      const error = errorOf(parseDpsResponse(202, body));
      expect([error.code, error.field]).toEqual(['invalid-payload', 'dps response.operationId']);
    }
    expect(errorOf(parseDpsResponse(202, '{"operationId":"","status":"assigning"}')).message).toBe(
      'dps response.operationId: is missing or empty while the status is assigning: there is nothing to poll',
    );
  });

  test('an operationId that is not a string is still a malformed body, whatever the status', () => {
    for (const status of ['disabled', 'failed', 'assigning']) {
      expect(errorOf(parseDpsResponse(200, `{"operationId":7,"status":"${status}"}`)).message).toBe('dps response.operationId: is not a string');
    }
  });
});

describe('DPS error bodies', () => {
  test('errorCode / 1000 is the status; 401 is not retryable', () => {
    const body = '{"errorCode":401002,"trackingId":"t-1","message":"Unauthorized","timestampUtc":"2024-01-01T00:00:00Z"}';
    expect(unwrap(parseDpsResponse(401, body))).toEqual({
      kind: 'error',
      status: 401,
      retryable: false,
      errorCode: 401002,
      trackingId: 't-1',
      message: 'Unauthorized',
    });
  });

  test('429 and 5xx are retryable', () => {
    expect(unwrap(parseDpsResponse(429, '{"errorCode":429001}'))).toEqual({ kind: 'error', status: 429, retryable: true, errorCode: 429001 });
    expect(unwrap(parseDpsResponse(503, ''))).toEqual({ kind: 'error', status: 503, retryable: true });
  });

  test('an unreadable error body still yields the topic status', () => {
    expect(unwrap(parseDpsResponse(404, 'not json'))).toEqual({ kind: 'error', status: 404, retryable: false });
    expect(unwrap(parseDpsResponse(400, '{"errorCode":"x"}'))).toEqual({ kind: 'error', status: 400, retryable: false });
    expect(unwrap(parseDpsResponse(400, '{"errorCode":7}'))).toEqual({ kind: 'error', status: 400, retryable: false, errorCode: 7 });
  });
});

describe('isFinalDpsStatus', () => {
  test('assigned, failed and disabled are final', () => {
    expect(['unassigned', 'assigning', 'assigned', 'failed', 'disabled'].map((s) => isFinalDpsStatus(s as never))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});
