// The bad-input matrix at the client level: every malformed credential and every bad call gets its own typed
// error with an exact message, refused before anything is queued or sent, and none of it costs a message that
// was already queued. Runs against the emulator over loopback TLS (real bytes); payloads the emulator cannot
// produce (non-JSON twin and method bodies) are played byte for byte on the virtual host.

import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { emulatorHubClient } from '../../soak/lib/emulator-client';
import { HubClient } from '../../src/hub/hub-client';
import { HubError } from '../../src/hub/hub-error';
import { ScriptedTransportFactory, VirtualClock } from '../../hosts/virtual';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { connectFully, publishHex, pubackHex, settle, setupHub, track, DEVICE } from '../hub/hub-fixture';

const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const HOST = 'h.azure-devices.net';

function offlinePorts() {
  return { transport: new ScriptedTransportFactory(), timers: new VirtualClock(), clock: { unixMs: () => 1_700_000_000_000 }, crypto: createNodeCrypto() };
}

function constructionError(config: ConstructorParameters<typeof HubClient>[1]): HubError {
  try {
    new HubClient(offlinePorts(), config);
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
  throw new Error('the client accepted the configuration');
}

/** Every piece of the key a message could leak: the whole, its percent-encoded form, and any 8 characters. */
function leaksKey(text: string): boolean {
  if (text.includes(KEY) || text.includes(encodeURIComponent(KEY))) return true;
  for (let i = 0; i + 8 <= KEY.length; i++) if (text.includes(KEY.slice(i, i + 8))) return true;
  return false;
}

describe('malformed connection strings: invalid-config naming the field, never the key', () => {
  const cases: Array<[string, string, string, string]> = [
    ['no HostName', `DeviceId=d1;SharedAccessKey=${KEY}`, 'HostName', 'connection string: HostName: is required'],
    ['no DeviceId', `HostName=${HOST};SharedAccessKey=${KEY}`, 'DeviceId', 'connection string: DeviceId: is required'],
    ['no key and no x509', `HostName=${HOST};DeviceId=d1`, 'SharedAccessKey', 'connection string: SharedAccessKey: is required unless x509=true'],
    ['field name in the wrong case', `hostname=${HOST};DeviceId=d1;SharedAccessKey=${KEY}`, 'HostName', 'connection string: HostName: segment 1 spells it with the wrong case (names are case-sensitive)'],
    ['repeated field', `HostName=${HOST};DeviceId=d1;DeviceId=d2;SharedAccessKey=${KEY}`, 'DeviceId', 'connection string: DeviceId: appears more than once'],
    ['empty value', `HostName=${HOST};DeviceId=;SharedAccessKey=${KEY}`, 'DeviceId', 'connection string: DeviceId: has an empty value'],
    ['key together with x509=true', `HostName=${HOST};DeviceId=d1;SharedAccessKey=${KEY};x509=true`, 'SharedAccessKey', 'connection string: SharedAccessKey: cannot be combined with x509=true'],
    ['key with a non-base64 character', `HostName=${HOST};DeviceId=d1;SharedAccessKey=${KEY.slice(0, 43)}!`, 'SharedAccessKey', 'connection string: SharedAccessKey: is not valid base64 (character at offset 43 is not base64)'],
    ['key cut short', `HostName=${HOST};DeviceId=d1;SharedAccessKey=${KEY.slice(0, 43)}`, 'SharedAccessKey', 'connection string: SharedAccessKey: is not valid base64 (length 43 is not a multiple of 4)'],
    ['device id with a slash', `HostName=${HOST};DeviceId=d/1;SharedAccessKey=${KEY}`, 'DeviceId', "connection string: DeviceId: character at offset 1 is not allowed (allowed: letters, digits and -.%_*?!(),:=@$')"],
    ['host name with a port out of range', `HostName=${HOST}:70000;DeviceId=d1;SharedAccessKey=${KEY}`, 'HostName', 'connection string: HostName: has a port outside 1..65535'],
    ['host name with a port that is not a number', `HostName=${HOST}:https;DeviceId=d1;SharedAccessKey=${KEY}`, 'HostName', 'connection string: HostName: character at offset 19 is not allowed (allowed: letters, digits, . and -, then an optional :port)'],
    ['x509=true without a certificate', `HostName=${HOST};DeviceId=d1;x509=true`, 'certificate', 'certificate: is required for X.509 authentication'],
    ['empty string', '', 'HostName', 'connection string: HostName: is required'],
  ];

  test.each(cases)('%s', (_name, connectionString, field, message) => {
    const error = constructionError({ credentials: { kind: 'connection-string', connectionString }, trustedCAs: [] });
    expect({ code: error.code, field: error.field, message: error.message }).toEqual({ code: 'invalid-config', field, message });
    expect(leaksKey(error.message)).toBe(false);
  });

  test.each([
    ['the key pasted as a bare segment', `HostName=${HOST};DeviceId=d1;${KEY}`],
    ['an unknown field holding the key', `HostName=${HOST};DeviceId=d1;Secret=${KEY}`],
  ])('%s: the segment is named by position, its text is never quoted', (_name, connectionString) => {
    const error = constructionError({ credentials: { kind: 'connection-string', connectionString }, trustedCAs: [] });
    expect(error.code).toBe('invalid-config');
    // The hub client prefixes "connection string: " to an Azure error whose field is also "connection string".
    expect(error.message).toMatch(/segment 3 has an unknown name \(expected one of HostName, DeviceId, ModuleId, SharedAccessKey, SharedAccessKeyName, GatewayHostName, x509\)$/);
    expect(leaksKey(error.message)).toBe(false);
  });
});

describe('symmetric keys that are not base64: invalid-config on field key', () => {
  test.each<[string, string | Uint8Array, string]>([
    ['text with spaces and !', 'not base64!', 'key: is not valid base64 (length 11 is not a multiple of 4)'],
    ['padding in the middle', 'a===', 'key: is not valid base64 (padding at offset 1 before the end)'],
    ['URL-safe alphabet', '-_-_', 'key: is not valid base64 (character at offset 0 is not base64)'],
    ['empty text', '', 'key: is empty'],
    ['empty bytes', new Uint8Array(0), 'key: is empty'],
  ])('%s', (_name, key, message) => {
    const error = constructionError({ credentials: { kind: 'hub', hostName: HOST, deviceId: 'd1', credential: { kind: 'sas', key } }, trustedCAs: [] });
    expect({ code: error.code, field: error.field, message: error.message }).toEqual({ code: 'invalid-config', field: 'key', message });
  });
});

describe('bad calls are refused with exact errors, and telemetry queued before them is still delivered', () => {
  let emulator: Emulator;
  let key: string;
  const DEVICE_ID = 'bad-input-device';

  beforeAll(async () => {
    emulator = await Emulator.start({ persist: false, dps: false, hubHostName: 'bad-input-hub.azure-devices.net', tls: createTlsMaterial() });
    const record = emulator.addDevice(DEVICE_ID);
    if (record.auth.type !== 'sas') throw new Error('expected a SAS device');
    key = record.auth.primaryKey;
  }, 30_000);

  afterAll(async () => {
    await emulator.stop();
  });

  const deep = (): Record<string, unknown> => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 11; i++) value = { a: value };
    return value;
  };
  const cyclic = (): Record<string, unknown> => {
    const value: Record<string, unknown> = {};
    value['self'] = value;
    return value;
  };
  const nineStrings = (): Record<string, string> => Object.fromEntries('abcdefghi'.split('').map((k) => [k, k.repeat(4000)]));

  type Call = (client: HubClient) => Promise<unknown>;
  const calls: Array<[string, Call, string, string | undefined, string]> = [
    ['payload over 256 KiB', (c) => c.sendTelemetry(new Uint8Array(256 * 1024)), 'too-large', 'telemetry', 'telemetry: payload and properties are 262185 bytes; the hub allows 262144'],
    ['properties pushing the topic over 64 KiB', (c) => c.sendTelemetry('x', { properties: { a: 'x'.repeat(70_000) } }), 'too-large', 'topic', 'topic: is 70043 bytes with its properties; MQTT allows 65535'],
    ['empty property name', (c) => c.sendTelemetry('x', { properties: { '': 'v' } }), 'invalid-argument', 'property name', 'telemetry: property name: must not be empty'],
    ['property name reserved for the system', (c) => c.sendTelemetry('x', { properties: { '$.mid': 'v' } }), 'invalid-argument', '$.mid', "telemetry: $.mid: names starting with '$.' are reserved for system properties"],
    ['property name reserved for the hub', (c) => c.sendTelemetry('x', { properties: { 'iothub-x': 'v' } }), 'invalid-argument', 'iothub-x', "telemetry: iothub-x: names starting with 'iothub-' are reserved"],
    ['property name with a space', (c) => c.sendTelemetry('x', { properties: { 'a b': 'v' } }), 'invalid-argument', 'property name', "telemetry: property name: character at offset 1 is not allowed (letters, digits and !#$%&'*+-.^_`|~)"],
    ['property value with a lone surrogate', (c) => c.sendTelemetry('x', { properties: { a: '\uD800' } }), 'invalid-argument', 'a', 'telemetry: a: is not well-formed Unicode'],
    ['empty message id', (c) => c.sendTelemetry('x', { systemProperties: { messageId: '' } }), 'invalid-argument', 'messageId', 'telemetry: messageId: must not be empty when given'],
    ['QoS 2', (c) => c.sendTelemetry('x', { qos: 2 as 1 }), 'invalid-argument', 'qos', 'qos must be 0 or 1'],
    ['body that is neither text nor bytes', (c) => c.sendTelemetry(42 as unknown as string), 'invalid-argument', 'body', 'telemetry body must be a string or a Uint8Array'],
    ['reported patch over 32 KiB', (c) => c.patchReported(nineStrings()), 'too-large', 'patch', 'reported patch: patch: is 36064 bytes; the hub allows 32768'],
    ['reported string over 4 KiB', (c) => c.patchReported({ a: 'x'.repeat(5000) }), 'too-large', 'a', 'reported patch: a: string is 5000 bytes; twins allow 4096'],
    ["reported key with '.'", (c) => c.patchReported({ 'a.b': 1 }), 'invalid-argument', 'a.b', "reported patch: a.b: twin keys may not contain '.' (offset 1)"],
    ["reported key with '$'", (c) => c.patchReported({ $x: 1 }), 'invalid-argument', '$x', "reported patch: $x: twin keys may not contain '$' (offset 0)"],
    ['reported patch nested 12 deep', (c) => c.patchReported(deep()), 'invalid-argument', 'a.a.a.a.a.a.a.a.a.a.a', 'reported patch: a.a.a.a.a.a.a.a.a.a.a: nests deeper than 10 levels'],
    ['reported patch that refers to itself', (c) => c.patchReported(cyclic()), 'invalid-argument', 'self.self.self.self.self.self.self.self.self.self.self', 'reported patch: self.self.self.self.self.self.self.self.self.self.self: nests deeper than 10 levels'],
    ['reported NaN', (c) => c.patchReported({ a: NaN }), 'invalid-argument', 'a', 'reported patch: a: numbers must be finite'],
    ['reported array instead of object', (c) => c.patchReported([1] as unknown as Record<string, unknown>), 'invalid-argument', 'patch', 'reported patch: patch: must be a plain JSON object'],
  ];

  test('18 bad calls, each with its error; the 5 messages queued before them arrive, in order, once connected', async () => {
    const client = emulatorHubClient(emulator, { deviceId: DEVICE_ID, key });
    try {
      const queued = [0, 1, 2, 3, 4].map((i) => track(client.sendTelemetry(`{"queued":${i}}`, { systemProperties: { messageId: `queued-${i}` } })));
      expect(client.pendingTelemetry).toBe(5);

      const outcomes: unknown[] = [];
      for (const [, call] of calls) {
        outcomes.push(await call(client).then(
          () => 'resolved',
          (error: unknown) => (error instanceof HubError ? { code: error.code, field: error.field, message: error.message } : String(error)),
        ));
      }
      expect(outcomes).toEqual(calls.map(([, , code, field, message]) => ({ code, field, message })));
      expect(client.pendingTelemetry).toBe(5);

      await client.connect();
      await client.sendTelemetry('{"after":true}', { systemProperties: { messageId: 'after' } });
      expect(queued.map((q) => q.status)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'resolved']);
      const ids = emulator.telemetry(DEVICE_ID).map((m) => m.systemProperties['$.mid']);
      expect(ids).toEqual(['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4', 'after']);
    } finally {
      await client.close();
    }
  });

  test('a method handler that answers after the device limit: the caller gets 504, the late answer is dropped, telemetry flows', async () => {
    const errors: HubError[] = [];
    const client = emulatorHubClient(emulator, { deviceId: DEVICE_ID, key, config: { methodTimeoutMs: 150 } });
    client.on('error', (error) => errors.push(error));
    let lateAnswered = false;
    client.onMethod('slow', () => new Promise((resolve) => setTimeout(() => {
      lateAnswered = true;
      resolve({ status: 200, payload: 'too late' });
    }, 400)));
    try {
      await client.connect();
      const during = client.sendTelemetry('during', { systemProperties: { messageId: 'during-slow-method' } });
      const result = await emulator.invokeMethod(DEVICE_ID, 'slow', { x: 1 }, { timeoutMs: 5000 });
      expect(result).toEqual({ status: 504, payload: { error: "method 'slow' did not finish within 150 ms" } });
      await during;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(lateAnswered).toBe(true);
      expect(errors.map((e) => [e.code, e.message])).toEqual([['timeout', "method 'slow' handler exceeded 150 ms; 504 sent"]]);
      await client.sendTelemetry('after', { systemProperties: { messageId: 'after-slow-method' } });
      const ids = emulator.telemetry(DEVICE_ID).map((m) => m.systemProperties['$.mid']);
      expect(ids.slice(-2)).toEqual(['during-slow-method', 'after-slow-method']);
      expect(client.state).toBe('connected');
    } finally {
      await client.close();
    }
  });

  test('a method handler slower than the caller’s own wait: the hub answers 504 and drops the reply; the client carries on', async () => {
    const client = emulatorHubClient(emulator, { deviceId: DEVICE_ID, key });
    let finish!: () => void;
    client.onMethod('slower', () => new Promise((resolve) => (finish = () => resolve({ status: 200, payload: { ok: true } }))));
    try {
      await client.connect();
      const result = await emulator.invokeMethod(DEVICE_ID, 'slower', null, { timeoutMs: 200 });
      expect(result.status).toBe(504);
      finish();
      await client.sendTelemetry('after', { systemProperties: { messageId: 'after-slower-method' } });
      expect(emulator.telemetry(DEVICE_ID).at(-1)?.systemProperties['$.mid']).toBe('after-slower-method');
      expect(client.state).toBe('connected');
    } finally {
      await client.close();
    }
  });
});

describe('hub payloads that are not JSON: typed errors, a 400 reply, and the queued message still goes out', () => {
  const TELEMETRY = `devices/${DEVICE}/messages/events/`;

  test('a twin GET answer that is not JSON rejects getTwin with invalid-response', async () => {
    const fx = setupHub();
    await connectFully(fx);
    const twin = track(fx.client.getTwin());
    await settle();
    const written = fx.link.takeHex();
    expect(written).toHaveLength(1);
    const rid = /\$rid=(\d+)/.exec(Buffer.from(written[0]!, 'hex').toString('latin1'))![1];
    const queued = track(fx.client.sendTelemetry('kept'));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, 'kept', 1, 2)]);
    fx.link.push(publishHex(`$iothub/twin/res/200/?$rid=${rid}`, '{"desired":'));
    fx.link.push(pubackHex(2));
    await settle();
    expect(twin.status).toBe('rejected');
    expect([twin.error?.code, twin.error?.message]).toEqual(['invalid-response', 'twin document: twin: is not valid JSON']);
    expect(queued.status).toBe('resolved');
    expect(fx.client.state).toBe('connected');
    await fx.client.close();
  });

  test('a desired patch that is not JSON is reported and skipped; later patches still apply', async () => {
    const fx = setupHub();
    const applied: number[] = [];
    fx.client.onDesired((_patch, version) => {
      applied.push(version);
    });
    await connectFully(fx, 1);
    fx.link.push(publishHex('$iothub/twin/PATCH/properties/desired/?$version=2', 'not json'));
    fx.link.push(publishHex('$iothub/twin/PATCH/properties/desired/?$version=3', '{"a":1,"$version":3}'));
    await settle();
    expect(fx.errors.map((e) => [e.code, e.message])).toEqual([['invalid-response', 'desired patch: desired patch: is not valid JSON']]);
    expect(applied).toEqual([1, 3]);
    await fx.client.close();
  });

  test('a method request whose body is not JSON gets 400 without calling the handler', async () => {
    const fx = setupHub();
    let called = false;
    fx.client.onMethod('m', () => {
      called = true;
      return { status: 200 };
    });
    await connectFully(fx);
    fx.link.push(publishHex('$iothub/methods/POST/m/?$rid=4', '{oops'));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/methods/res/400/?$rid=4', '{"error":"request payload: method payload: is not valid JSON"}')]);
    expect(called).toBe(false);
    await fx.client.close();
  });
});
