import { parseConnectionString } from '../../src/azure/connection-string';
import { errorOf, unwrap } from './support';

const KEY = 'cGFzc3dvcmQ=';

describe('parseConnectionString accepts the documented forms', () => {
  test('device with a shared access key', () => {
    expect(unwrap(parseConnectionString(`HostName=contoso.azure-devices.net;DeviceId=device-1;SharedAccessKey=${KEY}`))).toEqual({
      hostName: 'contoso.azure-devices.net',
      deviceId: 'device-1',
      sharedAccessKey: KEY,
      x509: false,
    });
  });

  test('module, key name and gateway, in any field order', () => {
    const text = `GatewayHostName=edge.local;SharedAccessKeyName=policy;ModuleId=m1;SharedAccessKey=${KEY};DeviceId=d1;HostName=h.azure-devices.net`;
    expect(unwrap(parseConnectionString(text))).toEqual({
      hostName: 'h.azure-devices.net',
      deviceId: 'd1',
      moduleId: 'm1',
      sharedAccessKey: KEY,
      sharedAccessKeyName: 'policy',
      gatewayHostName: 'edge.local',
      x509: false,
    });
  });

  test('x509=true needs no key', () => {
    expect(unwrap(parseConnectionString('HostName=h.azure-devices.net;DeviceId=d1;x509=true'))).toEqual({
      hostName: 'h.azure-devices.net',
      deviceId: 'd1',
      x509: true,
    });
  });

  test('surrounding whitespace and a trailing ; are ignored', () => {
    expect(unwrap(parseConnectionString(`  HostName=h;DeviceId=d1;SharedAccessKey=${KEY};\n`)).deviceId).toBe('d1');
  });
});

describe('parseConnectionString names what is wrong', () => {
  test('missing fields', () => {
    expect(errorOf(parseConnectionString(`DeviceId=d1;SharedAccessKey=${KEY}`))).toEqual({
      code: 'missing-field',
      field: 'HostName',
      message: 'HostName: is required',
    });
    expect(errorOf(parseConnectionString(`HostName=h;SharedAccessKey=${KEY}`)).field).toBe('DeviceId');
    expect(errorOf(parseConnectionString('HostName=h;DeviceId=d1'))).toEqual({
      code: 'missing-field',
      field: 'SharedAccessKey',
      message: 'SharedAccessKey: is required unless x509=true',
    });
    expect(errorOf(parseConnectionString('HostName=h;DeviceId=d1;x509=false')).field).toBe('SharedAccessKey');
  });

  test('duplicate and empty fields', () => {
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=a;DeviceId=b;SharedAccessKey=${KEY}`))).toEqual({
      code: 'duplicate-field',
      field: 'DeviceId',
      message: 'DeviceId: appears more than once',
    });
    expect(errorOf(parseConnectionString(`HostName=;DeviceId=d1;SharedAccessKey=${KEY}`))).toEqual({
      code: 'empty-field',
      field: 'HostName',
      message: 'HostName: has an empty value',
    });
  });

  test('names are case-sensitive, with a hint for a near miss', () => {
    expect(errorOf(parseConnectionString(`hostname=h;DeviceId=d1;SharedAccessKey=${KEY}`))).toEqual({
      code: 'unknown-field',
      field: 'HostName',
      message: 'HostName: segment 1 spells it with the wrong case (names are case-sensitive)',
    });
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=d1;Colour=red;SharedAccessKey=${KEY}`)).message).toBe(
      'connection string: segment 3 has an unknown name (expected one of HostName, DeviceId, ModuleId, SharedAccessKey, SharedAccessKeyName, GatewayHostName, x509)',
    );
  });

  test('a segment without = is malformed', () => {
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=d1;${KEY.slice(0, 8)}`))).toEqual({
      code: 'malformed',
      field: 'connection string',
      message: "connection string: segment 3 has no '='",
    });
  });

  test('a key that is not base64 is refused without echoing it', () => {
    const badKey = 'c2VjcmV0!c2VjcmV0';
    const e = errorOf(parseConnectionString(`HostName=h;DeviceId=d1;SharedAccessKey=${badKey}`));
    expect(e.code).toBe('invalid-base64');
    expect(e.field).toBe('SharedAccessKey');
    expect(e.message).toBe('SharedAccessKey: is not valid base64 (length 17 is not a multiple of 4)');
    expect(e.message).not.toContain('c2Vj');
  });

  test('no error message ever contains the key', () => {
    const secret = 'U2VjcmV0S2V5VmFsdWU=';
    const cases = [
      `HostName=h;DeviceId=d1;SharedAccessKey=${secret};SharedAccessKey=${secret}`,
      `HostName=h;DeviceId=d1;SharedAccessKey=${secret};x509=true`,
      `HostName=h;DeviceId=d/1;SharedAccessKey=${secret}`,
      `HostName=h;DeviceId=d1;${secret}`,
      `HostName=h;DeviceId=d1;U2VjcmV0S2V5VmFsdWU=xyz`,
      `HostName=h;DeviceId=d1;sharedaccesskey=${secret}`,
    ];
    for (const text of cases) {
      const e = errorOf(parseConnectionString(text));
      expect(e.message).not.toContain('U2VjcmV0');
    }
  });

  test('x509 conflicts and bad flags', () => {
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=d1;SharedAccessKey=${KEY};x509=true`))).toEqual({
      code: 'conflicting-fields',
      field: 'SharedAccessKey',
      message: 'SharedAccessKey: cannot be combined with x509=true',
    });
    expect(errorOf(parseConnectionString('HostName=h;DeviceId=d1;x509=yes')).message).toBe("x509: must be 'true' or 'false'");
    expect(errorOf(parseConnectionString('HostName=h;DeviceId=d1;x509=true;SharedAccessKeyName=p')).code).toBe('conflicting-fields');
  });

  test('identifiers are checked', () => {
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=a/b;SharedAccessKey=${KEY}`)).field).toBe('DeviceId');
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=d;ModuleId=m#;SharedAccessKey=${KEY}`)).field).toBe('ModuleId');
    expect(errorOf(parseConnectionString(`HostName=h x;DeviceId=d;SharedAccessKey=${KEY}`)).field).toBe('HostName');
    expect(errorOf(parseConnectionString(`HostName=h;DeviceId=d;GatewayHostName=g/1;SharedAccessKey=${KEY}`)).field).toBe('GatewayHostName');
  });

  test('garbage never throws', () => {
    for (const text of ['', ';', '=', ';;=;;', '\u0000', 'HostName', '==;==']) {
      expect(parseConnectionString(text).ok).toBe(false);
    }
  });
});
