import { dpsResponseTopic, isValidRegistrationId, parseDpsRequestTopic, parseDpsUsername } from '../../emulator/src/dps/dps-topics';

describe('DPS username parsing', () => {
  test('reads scope, registration id, api-version and extra parameters', () => {
    expect(parseDpsUsername('0ne00000001/registrations/dev-1/api-version=2019-03-31&ClientVersion=azure-iot%2F1.0')).toEqual({
      ok: true,
      value: { idScope: '0ne00000001', registrationId: 'dev-1', apiVersion: '2019-03-31', extra: { ClientVersion: 'azure-iot/1.0' } },
    });
  });

  test.each([
    [undefined, 'username is missing'],
    ['0ne00000001/devices/dev-1/api-version=2019-03-31', 'username must be {idScope}/registrations/{registrationId}/api-version=...'],
    ['0ne00000001/registrations/dev-1/?api-version=2019-03-31', 'DPS usernames take no "?" before api-version (that is the hub form)'],
    ['0ne00000001/registrations/dev-1/ClientVersion=1', 'username lacks api-version'],
    ['/registrations/dev-1/api-version=1', 'username has an empty id scope'],
    ['0ne00000001/registrations/dev-1/api-version=%E0', 'username parameters are not valid URL encoding'],
  ])('rejects %p', (username, message) => {
    expect(parseDpsUsername(username)).toEqual({ ok: false, message });
  });
});

describe('DPS registration ids', () => {
  test('letters, digits and - . _ : up to 128, ending with a letter, digit or dash', () => {
    expect(isValidRegistrationId('sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6')).toBe(true);
    expect(isValidRegistrationId('a'.repeat(128))).toBe(true);
    expect(isValidRegistrationId('a'.repeat(129))).toBe(false);
    expect(isValidRegistrationId('dev.')).toBe(false);
    expect(isValidRegistrationId('dev/1')).toBe(false);
    expect(isValidRegistrationId('')).toBe(false);
  });
});

describe('DPS request and response topics', () => {
  test('register and poll topics parse, with parameters in any order', () => {
    expect(parseDpsRequestTopic('$dps/registrations/PUT/iotdps-register/?$rid=7')).toEqual({ kind: 'register', rid: '7' });
    expect(parseDpsRequestTopic('$dps/registrations/GET/iotdps-get-operationstatus/?operationId=4.a.b&$rid=8')).toEqual({
      kind: 'poll',
      rid: '8',
      operationId: '4.a.b',
    });
  });

  test('a request without $rid or operationId parses with empty strings so it can be answered 400', () => {
    expect(parseDpsRequestTopic('$dps/registrations/PUT/iotdps-register/')).toEqual({ kind: 'register', rid: '' });
    expect(parseDpsRequestTopic('$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1')).toEqual({ kind: 'poll', rid: '1', operationId: '' });
  });

  test('any other topic is not a request', () => {
    expect(parseDpsRequestTopic('$dps/registrations/res/200/?$rid=1')).toBeUndefined();
    expect(parseDpsRequestTopic('devices/d/messages/events/')).toBeUndefined();
    expect(parseDpsRequestTopic('$dps/registrations/PUT/iotdps-register/x?$rid=1')).toBeUndefined();
  });

  test('response topics carry the status, $rid and optional retry-after', () => {
    expect(dpsResponseTopic(202, '1', 3)).toBe('$dps/registrations/res/202/?$rid=1&retry-after=3');
    expect(dpsResponseTopic(200, 'abc')).toBe('$dps/registrations/res/200/?$rid=abc');
  });
});
