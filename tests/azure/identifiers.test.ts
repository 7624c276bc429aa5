import { checkDeviceId, checkHostName, checkIdScope, checkModuleId, checkRegistrationId, splitHostPort } from '../../src/azure/identifiers';
import { errorOf, unwrap } from './support';

describe('device and module ids', () => {
  test('accept letters, digits and the documented punctuation, up to 128 characters', () => {
    expect(unwrap(checkDeviceId("dev-1.%_*?!(),:=@$'"))).toBe("dev-1.%_*?!(),:=@$'");
    expect(unwrap(checkModuleId('m'.repeat(128)))).toBe('m'.repeat(128));
  });

  test('refuse topic separators, MQTT wildcards, spaces and non-ASCII', () => {
    for (const bad of ['a/b', 'a#', 'a+b', 'a b', 'caf\u00e9']) {
      expect(errorOf(checkDeviceId(bad)).code).toBe('invalid-value');
    }
    expect(errorOf(checkDeviceId('a/b')).message).toBe("deviceId: character at offset 1 is not allowed (allowed: letters, digits and -.%_*?!(),:=@$')");
  });

  test('refuse empty and over-long ids, naming the field', () => {
    expect(errorOf(checkDeviceId(''))).toEqual({ code: 'empty-field', field: 'deviceId', message: 'deviceId: must not be empty' });
    expect(errorOf(checkModuleId('m'.repeat(129), 'ModuleId')).message).toBe('ModuleId: is 129 characters long; the limit is 128');
  });
});

describe('DPS registration ids and scopes', () => {
  test('registration ids allow letters, digits and - . _ :', () => {
    expect(unwrap(checkRegistrationId('sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6'))).toBe('sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6');
    expect(unwrap(checkRegistrationId('a.b_c:d'))).toBe('a.b_c:d');
    expect(errorOf(checkRegistrationId('a*b')).code).toBe('invalid-value');
  });

  test('ID scopes are letters and digits', () => {
    expect(unwrap(checkIdScope('0ne00ABC123'))).toBe('0ne00ABC123');
    expect(errorOf(checkIdScope('0ne-1')).code).toBe('invalid-value');
  });
});

describe('host names', () => {
  test('accept DNS names and IPv4 literals', () => {
    expect(unwrap(checkHostName('contoso.azure-devices.net'))).toBe('contoso.azure-devices.net');
    expect(unwrap(checkHostName('127.0.0.1'))).toBe('127.0.0.1');
    expect(unwrap(checkHostName('localhost'))).toBe('localhost');
  });

  test('accept an optional :port (a local emulator or test hub) and keep it in the name', () => {
    expect(unwrap(checkHostName('localhost:8883'))).toBe('localhost:8883');
    expect(unwrap(checkHostName('127.0.0.1:40123'))).toBe('127.0.0.1:40123');
    expect(splitHostPort('localhost:40123')).toEqual({ host: 'localhost', port: 40123 });
    expect(splitHostPort('contoso.azure-devices.net')).toEqual({ host: 'contoso.azure-devices.net' });
  });

  test('refuse bad ports, paths and empty labels', () => {
    expect(errorOf(checkHostName('hub:0')).message).toBe('hostName: has a port outside 1..65535');
    expect(errorOf(checkHostName('hub:70000')).message).toBe('hostName: has a port outside 1..65535');
    expect(errorOf(checkHostName('hub:http')).code).toBe('invalid-value');
    expect(errorOf(checkHostName('hub:')).code).toBe('invalid-value');
    expect(errorOf(checkHostName('hub/x')).code).toBe('invalid-value');
    expect(errorOf(checkHostName('hub..net')).message).toBe('hostName: has an empty label');
    expect(errorOf(checkHostName('.hub')).message).toBe('hostName: has an empty label');
  });
});
