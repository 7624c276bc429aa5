import { describe, expect, test } from '@jest/globals';
import { DEFAULT_DPS_ENDPOINT, DEFAULT_MODEL_ID, describeIdentity, isModelId, parseAppConfig } from '../../src/app/config';

// Public example values (Azure documentation), never real credentials.
const KEY = 'cGFzc3dvcmQ=';
const SECRET_KEY = 'c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY3ODkwYWJjZGVm';
const CS = `HostName=hub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=${SECRET_KEY}`;

function error(raw: unknown): { field: string; message: string } {
  const result = parseAppConfig(raw);
  if (result.ok) throw new Error('expected a configuration error');
  return result.error;
}

describe('defaults', () => {
  test('an empty object means: use the stored configuration, with every default filled in', () => {
    const result = parseAppConfig({});
    expect(result).toEqual({
      ok: true,
      value: {
        identity: { kind: 'stored' },
        telemetryIntervalMs: 10_000,
        modelId: DEFAULT_MODEL_ID,
        logLevel: 'info',
        sensorSeed: 1,
        manufacturer: 'azure-iot-xs',
        model: 'xs-thermostat',
        transport: { kind: 'mqtt', fallbackAfter: 3 },
      },
    });
  });

  test('empty strings (the manifest defaults) count as absent and unknown fields are ignored', () => {
    const result = parseAppConfig({ connectionString: '', idScope: '', registrationId: '', symmetricKey: '', ssid: 'wifi', sntp: 'pool.ntp.org' });
    expect(result.ok && result.value.identity).toEqual({ kind: 'stored' });
  });

  test('the default model id is a well-formed DTMI', () => {
    expect(isModelId(DEFAULT_MODEL_ID)).toBe(true);
  });
});

describe('connection string', () => {
  test('is accepted and kept verbatim (trimmed)', () => {
    const result = parseAppConfig({ connectionString: ` ${CS}\n`, telemetryIntervalMs: 5000 });
    expect(result.ok && result.value.identity).toEqual({ kind: 'connection-string', connectionString: CS });
    expect(result.ok && result.value.telemetryIntervalMs).toBe(5000);
  });

  test('a malformed one names the missing field and never echoes the key', () => {
    const e = error({ connectionString: `HostName=hub.azure-devices.net;SharedAccessKey=${SECRET_KEY}` });
    expect(e.field).toBe('connectionString');
    expect(e.message).toBe('connectionString: DeviceId: is required');
    expect(e.message).not.toContain(SECRET_KEY);
  });

  test('a key that is not base64 is refused without quoting it', () => {
    const e = error({ connectionString: 'HostName=hub.azure-devices.net;DeviceId=d;SharedAccessKey=not*base64' });
    expect(e.message).toContain('SharedAccessKey');
    expect(e.message).not.toContain('not*base64');
  });

  test('cannot be combined with DPS settings', () => {
    expect(error({ connectionString: CS, idScope: '0ne00000001' })).toEqual({
      field: 'idScope',
      message: 'idScope cannot be combined with connectionString (choose a fixed hub or DPS)',
    });
  });

  test('x509=true needs the security tag holding the certificate', () => {
    expect(error({ connectionString: 'HostName=hub.azure-devices.net;DeviceId=d;x509=true' }).field).toBe('securityTag');
    const ok = parseAppConfig({ connectionString: 'HostName=hub.azure-devices.net;DeviceId=d;x509=true', securityTag: 12 });
    expect(ok.ok && ok.value.identity).toEqual({ kind: 'connection-string', connectionString: 'HostName=hub.azure-devices.net;DeviceId=d;x509=true', securityTag: 12 });
  });

  test('a security tag with a SAS connection string is a mistake', () => {
    expect(error({ connectionString: CS, securityTag: 3 }).field).toBe('securityTag');
  });
});

describe('DPS', () => {
  test('symmetric key with the default global endpoint', () => {
    const result = parseAppConfig({ idScope: '0ne00000001', registrationId: 'reg-1', symmetricKey: KEY });
    expect(result.ok && result.value.identity).toEqual({
      kind: 'dps',
      endpoint: DEFAULT_DPS_ENDPOINT,
      idScope: '0ne00000001',
      registrationId: 'reg-1',
      credential: { kind: 'sas', key: KEY },
    });
  });

  test('group key with an explicit endpoint (host:port for the emulator)', () => {
    const result = parseAppConfig({ idScope: 'scope1', registrationId: 'reg-1', groupKey: KEY, dpsEndpoint: 'localhost:8884' });
    expect(result.ok && result.value.identity).toEqual({
      kind: 'dps',
      endpoint: 'localhost:8884',
      idScope: 'scope1',
      registrationId: 'reg-1',
      credential: { kind: 'sas', key: KEY },
      enrollmentGroup: true,
    });
  });

  test('X.509 from a security tag may leave the registration id to the certificate', () => {
    const result = parseAppConfig({ idScope: 'scope1', securityTag: 7 });
    expect(result.ok && result.value.identity).toEqual({ kind: 'dps', endpoint: DEFAULT_DPS_ENDPOINT, idScope: 'scope1', credential: { kind: 'security-tag', tag: 7 } });
  });

  test('exactly one attestation', () => {
    expect(error({ idScope: 'scope1', registrationId: 'r' })).toEqual({
      field: 'symmetricKey',
      message: 'symmetricKey or groupKey or securityTag is required with idScope',
    });
    expect(error({ idScope: 'scope1', registrationId: 'r', symmetricKey: KEY, groupKey: KEY })).toEqual({
      field: 'groupKey',
      message: 'groupKey cannot be combined with symmetricKey (one attestation only)',
    });
  });

  test('keys must be base64 and are never quoted', () => {
    const e = error({ idScope: 'scope1', registrationId: 'r', groupKey: 'secret!!' });
    expect(e.field).toBe('groupKey');
    expect(e.message).toMatch(/^groupKey: is not valid base64/);
    expect(e.message).not.toContain('secret!!');
  });

  test('registration id is required with keys and checked', () => {
    expect(error({ idScope: 'scope1', symmetricKey: KEY }).field).toBe('registrationId');
    expect(error({ idScope: 'scope1', registrationId: 'bad/id', symmetricKey: KEY })).toEqual({
      field: 'registrationId',
      message: 'registrationId: character at offset 3 is not allowed (allowed: letters, digits and -._:)',
    });
  });

  test.each([
    ['a URL', 'https://global.azure-devices-provisioning.net', 'dpsEndpoint: must be a host name or host:port, not a URL (drop the scheme and any path)'],
    ['a path after the host', 'global.azure-devices-provisioning.net/', 'dpsEndpoint: character at offset 37 is not allowed (allowed: letters, digits, . and -, then an optional :port)'],
    ['a port out of range', 'localhost:70000', 'dpsEndpoint: has a port outside 1..65535'],
    ['a port with a leading zero', 'localhost:08884', 'dpsEndpoint: the port must be a number 1..65535 without leading zeros'],
    ['an empty label', 'global..net', 'dpsEndpoint: has an empty label'],
  ])('dpsEndpoint is checked at boot, by the DPS client\'s rules: %s', (_, dpsEndpoint, message) => {
    expect(error({ idScope: 'scope1', registrationId: 'r', symmetricKey: KEY, dpsEndpoint })).toEqual({ field: 'dpsEndpoint', message });
  });

  test('dpsEndpoint accepts a host name, an IPv4 literal and host:port', () => {
    for (const dpsEndpoint of ['global.azure-devices-provisioning.net', '127.0.0.1:8884', 'localhost:8883']) {
      const result = parseAppConfig({ idScope: 'scope1', registrationId: 'r', symmetricKey: KEY, dpsEndpoint });
      expect(result.ok && result.value.identity.kind === 'dps' && result.value.identity.endpoint).toBe(dpsEndpoint);
    }
  });

  test('id scope is checked, and DPS fields without it are refused', () => {
    expect(error({ idScope: 'scope-1', registrationId: 'r', symmetricKey: KEY }).field).toBe('idScope');
    expect(error({ registrationId: 'r', symmetricKey: KEY })).toEqual({ field: 'idScope', message: 'idScope is required when registrationId is given' });
    expect(error({ securityTag: 4 }).field).toBe('securityTag');
  });
});

describe('other settings', () => {
  test('telemetry interval must be whole milliseconds within bounds', () => {
    expect(error({ telemetryIntervalMs: '5000' })).toEqual({ field: 'telemetryIntervalMs', message: 'telemetryIntervalMs must be a whole number' });
    expect(error({ telemetryIntervalMs: 10 })).toEqual({ field: 'telemetryIntervalMs', message: 'telemetryIntervalMs must be between 1000 and 86400000 ms' });
    expect(error({ telemetryIntervalMs: 1.5 }).field).toBe('telemetryIntervalMs');
  });

  test('log level, model id and types', () => {
    expect(error({ logLevel: 'verbose' })).toEqual({ field: 'logLevel', message: 'logLevel must be one of debug, info, warn, error' });
    expect(error({ modelId: 'thermostat' }).field).toBe('modelId');
    expect(error({ connectionString: 42 })).toEqual({ field: 'connectionString', message: 'connectionString must be a string' });
    expect(error([])).toEqual({ field: 'config', message: 'config must be an object' });
    expect(error(null).field).toBe('config');
    const ok = parseAppConfig({ logLevel: 'debug', modelId: 'dtmi:com:example:Thermostat;1', sensorSeed: 42, manufacturer: 'Acme' });
    expect(ok.ok && [ok.value.logLevel, ok.value.modelId, ok.value.sensorSeed, ok.value.manufacturer]).toEqual([
      'debug',
      'dtmi:com:example:Thermostat;1',
      42,
      'Acme',
    ]);
  });

  test('model ids', () => {
    expect(isModelId('dtmi:com:example:Thermostat;1')).toBe(true);
    expect(isModelId('dtmi:com:example:Thermostat;1.2')).toBe(true);
    expect(isModelId('dtmi:com:example:Thermostat')).toBe(false);
    expect(isModelId('dtmi:com:9example:Thermostat;1')).toBe(false);
    expect(isModelId('dtmi:com:example_:Thermostat;1')).toBe(false);
    expect(isModelId('urn:com:example;1')).toBe(false);
  });
});

describe('describeIdentity', () => {
  test('says how the device connects without any secret', () => {
    const dps = parseAppConfig({ idScope: 'scope1', registrationId: 'reg-1', groupKey: KEY, dpsEndpoint: 'localhost:8884' });
    const line = dps.ok ? describeIdentity(dps.value.identity) : '';
    expect(line).toBe('DPS at localhost:8884, scope scope1, registration reg-1, with a key derived from a group enrollment key');
    expect(line).not.toContain(KEY);
    const cs = parseAppConfig({ connectionString: CS });
    expect(cs.ok && describeIdentity(cs.value.identity)).toBe('a connection string (SAS)');
  });
});

describe('transport: MQTT or MQTT over WebSockets, and the fallback between them', () => {
  test('mqtt-ws, a fallback count, and WebSocket endpoints (port 443 unless given)', () => {
    const result = parseAppConfig({ transport: 'mqtt-ws', wsFallbackAfter: 0, hubWsEndpoint: '127.0.0.1:9443', dpsWsEndpoint: 'dps.example.net' });
    expect(result.ok && result.value.transport).toEqual({
      kind: 'mqtt-ws',
      fallbackAfter: 0,
      hubWs: { host: '127.0.0.1', port: 9443 },
      dpsWs: { host: 'dps.example.net', port: 443 },
    });
  });

  test.each([
    [{ transport: 'websocket' }, 'transport', 'transport must be mqtt or mqtt-ws'],
    [{ wsFallbackAfter: -1 }, 'wsFallbackAfter', 'wsFallbackAfter must be 0..1000'],
    [{ wsFallbackAfter: '3' }, 'wsFallbackAfter', 'wsFallbackAfter must be a whole number'],
    [{ hubWsEndpoint: 'bad host!' }, 'hubWsEndpoint', undefined],
  ])('%j is refused, naming the field', (input, field, message) => {
    const result = parseAppConfig(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.field).toBe(field);
    if (message !== undefined) expect(result.error.message).toBe(message);
  });
});
