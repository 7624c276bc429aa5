// The registry (devices, modules, CAs, JSON in the state folder), the topic rules as pure functions, and what
// the emulator keeps on disk between runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry, RegistryError } from '../../emulator/src/registry';
import { Emulator } from '../../emulator/src/emulator';
import { createCa } from '../../emulator/src/pki';
import { testTls } from './hub-fixture';
import { classifyDevicePublish, filterMatches, formatPropertyBag, parsePropertyBag } from '../../emulator/src/hub/topics';
import { parseHubUsername } from '../../emulator/src/hub/connect-auth';

const KEY = Buffer.alloc(32, 5).toString('base64');
const emulatorTls = testTls();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'emu-registry-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('registry', () => {
  it('adds, upserts, lists and removes devices; addDevice refuses duplicates', () => {
    const registry = new Registry();
    registry.addDevice({ deviceId: 'd1', auth: { type: 'sas', primaryKey: KEY, secondaryKey: KEY } });
    expect(() => registry.addDevice({ deviceId: 'd1' })).toThrow(RegistryError);
    registry.upsertDevice({ deviceId: 'd1', auth: { type: 'x509-ca' }, status: 'disabled' });
    expect(registry.getDevice('d1')).toEqual(expect.objectContaining({ auth: { type: 'x509-ca' }, status: 'disabled' }));
    expect(registry.listDevices().map((d) => d.deviceId)).toEqual(['d1']);
    expect(registry.removeDevice('d1')).toBe(true);
    expect(registry.getDevice('d1')).toBeUndefined();
  });

  it('generates symmetric keys when none are given', () => {
    const device = new Registry().addDevice({ deviceId: 'gen' });
    expect(device.auth).toEqual({ type: 'sas', primaryKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/), secondaryKey: expect.any(String) });
  });

  it.each([
    ['an id with a slash', () => new Registry().addDevice({ deviceId: 'a/b' }), 'invalid-id'],
    ['an id over 128 characters', () => new Registry().addDevice({ deviceId: 'x'.repeat(129) }), 'invalid-id'],
    ['a non-base64 key', () => new Registry().addDevice({ deviceId: 'd', auth: { type: 'sas', primaryKey: 'not base64!', secondaryKey: KEY } }), 'invalid-auth'],
    ['a short thumbprint', () => new Registry().addDevice({ deviceId: 'd', auth: { type: 'x509-thumbprint', primaryThumbprint: 'ABC' } }), 'invalid-auth'],
    ['a module of a missing device', () => new Registry().addModule('nobody', 'm'), 'not-found'],
  ])('refuses %s with a typed error', (_label, act, code) => {
    expect(act).toThrow(expect.objectContaining({ code }));
  });

  it('normalises thumbprints (colons, case)', () => {
    const registry = new Registry();
    registry.addDevice({ deviceId: 'x', auth: { type: 'x509-thumbprint', primaryThumbprint: `ab:${'cd'.repeat(19)}` } });
    expect(registry.getDevice('x')!.auth).toEqual({ type: 'x509-thumbprint', primaryThumbprint: `AB${'CD'.repeat(19)}` });
  });

  it('saves to registry.json and loads it back, modules and CAs included', () => {
    const registry = new Registry();
    registry.addDevice({ deviceId: 'd1', auth: { type: 'sas', primaryKey: KEY, secondaryKey: KEY } });
    registry.addModule('d1', 'm1', { type: 'sas', primaryKey: KEY, secondaryKey: KEY });
    const ca = createCa('Registry Test CA');
    registry.addCertificateAuthority('ca1', ca.certPem);
    registry.save(dir);
    const loaded = new Registry();
    loaded.load(dir);
    expect(loaded.listDevices()).toEqual(registry.listDevices());
    expect(loaded.listCertificateAuthorities()).toEqual(registry.listCertificateAuthorities());
  });

  it('names the file when registry.json is not JSON', () => {
    writeFileSync(join(dir, 'registry.json'), '{oops');
    expect(() => new Registry().load(dir)).toThrow(/registry\.json is not valid JSON/);
  });
});

describe('topics', () => {
  it('parses and formats property bags (URL-encoded, null for a name without =)', () => {
    expect(parsePropertyBag('%24.mid=1&a%20b=c%2Fd&flag&e=')).toEqual([['$.mid', '1'], ['a b', 'c/d'], ['flag', null], ['e', '']]);
    expect(formatPropertyBag([['$.to', '/devices/d/messages/deviceBound'], ['x', "it's"]])).toBe("%24.to=%2Fdevices%2Fd%2Fmessages%2FdeviceBound&x=it%27s");
  });

  it('classifies what an identity publishes', () => {
    const d1 = { deviceId: 'd1' };
    expect(classifyDevicePublish(d1, 'devices/d1/messages/events/a=1/')).toEqual({ kind: 'telemetry', properties: [['a', '1']] });
    expect(classifyDevicePublish(d1, '$iothub/twin/GET/?$rid=abc')).toEqual({ kind: 'twin-get', rid: 'abc' });
    expect(classifyDevicePublish(d1, '$iothub/twin/PATCH/properties/reported/?$rid=2&$version=4')).toEqual({ kind: 'twin-patch-reported', rid: '2' });
    expect(classifyDevicePublish(d1, '$iothub/methods/res/500/?$rid=9')).toEqual({ kind: 'method-response', status: 500, rid: '9' });
    expect(classifyDevicePublish(d1, 'devices/d1/modules/m1/messages/events/').kind).toBe('forbidden');
    expect(classifyDevicePublish({ deviceId: 'd1', moduleId: 'm1' }, 'devices/d1/modules/m1/messages/events/').kind).toBe('telemetry');
  });

  it('matches MQTT filters', () => {
    expect(filterMatches('$iothub/methods/POST/#', '$iothub/methods/POST/reboot/?$rid=1')).toBe(true);
    expect(filterMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(filterMatches('a/+/c', 'a/b/d')).toBe(false);
  });

  it('parses hub usernames, keeping the query', () => {
    expect(parseHubUsername('h:1/d1/m1/?api-version=2021-04-12&DeviceClientType=x')).toEqual({
      host: 'h:1',
      deviceId: 'd1',
      moduleId: 'm1',
      query: new Map([['api-version', '2021-04-12'], ['DeviceClientType', 'x']]),
    });
    expect(parseHubUsername('h/d1/api-version=1')).toBeUndefined();
  });
});

describe('state folder', () => {
  it('keeps the CA, registry and twins across restarts', async () => {
    const first = await Emulator.start({ stateDir: dir, dps: false });
    first.addDevice('keep', { type: 'sas', primaryKey: KEY, secondaryKey: KEY });
    first.patchDesired('keep', { a: 1 });
    const caPem = first.caPem;
    await first.stop();
    expect(readFileSync(join(dir, 'ca.cert.pem'), 'utf8')).toBe(caPem);

    const second = await Emulator.start({ stateDir: dir, dps: false });
    expect(second.caPem).toBe(caPem);
    expect(second.caFile).toBe(join(dir, 'ca.cert.pem'));
    expect(second.registry.getDevice('keep')).toBeDefined();
    expect(second.getTwin('keep').desired).toEqual({ a: 1, $version: 2 });
    await second.stop();
  });

  it('names the hub localhost:{port}, hands that to DPS as assignedHub, and takes an explicit name', async () => {
    const emulator = await Emulator.start({ persist: false });
    expect(emulator.hubHostName).toBe(`localhost:${emulator.hubPort}`);
    expect(emulator.dpsPort).toEqual(expect.any(Number));
    expect(emulator.dps?.hubHostName).toBe(emulator.hubHostName);
    expect(() => emulator.connectionString('nobody')).toThrow(/unknown identity nobody/);
    await emulator.stop();
    const named = await Emulator.start({ persist: false, dps: false, hubHostName: 'myhub.azure-devices.net', tls: emulatorTls });
    expect(named.hubHostName).toBe('myhub.azure-devices.net');
    await named.stop();
  });
});
