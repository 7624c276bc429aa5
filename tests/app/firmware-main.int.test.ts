// src/main.ts on the Node host against the emulator (hub + DPS over TLS on 127.0.0.1): every way the firmware
// finds its identity, the reboot method, the clock gate, configuration and credential failures, and stop().
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeClock, createNodeHost, type NodeWallClock } from '../../hosts/node';
import { FileStore } from '../../hosts/node/file-store';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { Firmware, type FirmwareState, type PlatformHooks } from '../../src/main';
import { DeviceConfigStore } from '../../src/storage/device-config';
import { SecurityTagStore } from '../../src/storage/security-tag-store';
import type { KeyValueStore } from '../../src/ports';

const tls = createTlsMaterial();
const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 8).toString('base64');
const FAST = { backoff: { minDelayMs: 50, maxDelayMs: 400, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 }, connectTimeoutMs: 5000 };

let emulator: Emulator;
let folder: string;
const running: Firmware[] = [];

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls });
  folder = mkdtempSync(join(tmpdir(), 'firmware-main-'));
});

afterEach(async () => {
  for (const firmware of running.splice(0)) await firmware.stop();
});

afterAll(async () => {
  await emulator.stop();
  rmSync(folder, { recursive: true, force: true });
});

interface Device {
  firmware: Firmware;
  lines: string[];
  states: FirmwareState[];
  clock: NodeWallClock;
  store: KeyValueStore;
}

function boot(config: Record<string, unknown>, options: { store?: KeyValueStore; clockNotSet?: boolean; platform?: Partial<PlatformHooks> } = {}): Device {
  const lines: string[] = [];
  const host = createNodeHost({
    logLevel: 'debug',
    logger: { write: (line) => void lines.push(line) },
    ...(options.store ? { store: options.store } : {}),
  });
  const clock = createNodeClock({ notSet: options.clockNotSet });
  host.clock = clock;
  const firmware = new Firmware(host, { telemetryIntervalMs: 1000, ...config }, {
    hostKind: 'node-test',
    defaultRoots: loadDefaultRoots(),
    extraCAs: [emulator.caDer],
    hubClient: FAST,
    ...options.platform,
  });
  const states: FirmwareState[] = [];
  firmware.on('state', ({ state }) => states.push(state));
  running.push(firmware);
  return { firmware, lines, states, clock, store: host.store };
}

function logged(device: Device, pattern: RegExp): boolean {
  return device.lines.some((line) => pattern.test(line));
}

async function until(device: Device, pattern: RegExp, timeoutMs = 10_000, times = 1): Promise<void> {
  const started = Date.now();
  while (device.lines.filter((line) => pattern.test(line)).length < times) {
    if (Date.now() - started > timeoutMs) throw new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${device.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('connection string', () => {
  test('connects, reports device info, sends telemetry; stop() disconnects cleanly', async () => {
    emulator.addDevice('cs-dev');
    const device = boot({ connectionString: emulator.connectionString('cs-dev') });
    const telemetry = emulator.waitFor('telemetry', (m) => m.deviceId === 'cs-dev', 10_000);
    expect(await device.firmware.start()).toBe('running');
    const message = await telemetry;
    expect(JSON.parse(Buffer.from(message.body).toString('utf8'))).toEqual({ temperature: 21.76, humidity: 41.24 });
    expect(message.systemProperties).toMatchObject({ '$.ct': 'application/json', '$.ce': 'utf-8' });
    await until(device, /app: device info reported/);
    expect(emulator.getTwin('cs-dev').reported).toMatchObject({ manufacturer: 'azure-iot-xs', model: 'xs-thermostat', firmwareVersion: '0.1.0', hostKind: 'node-test' });
    expect(device.states).toEqual(['waiting-for-clock', 'connecting', 'running']);

    const gone = emulator.waitFor('connection', (e) => e.type === 'disconnected' && e.deviceId === 'cs-dev', 5000);
    await device.firmware.stop();
    expect(device.firmware.state).toBe('stopped');
    expect(await gone).toMatchObject({ reason: 'client-disconnect' });
  });

  test('the model id goes in the username (seen by the hub as the connection is accepted)', async () => {
    emulator.addDevice('cs-model');
    const device = boot({ connectionString: emulator.connectionString('cs-model'), modelId: 'dtmi:com:example:Thermostat;1' });
    expect(await device.firmware.start()).toBe('running');
    expect(logged(device, /connecting to the hub as device cs-model/)).toBe(true);
  });

  test('a wrong key is refused once with a named error and no retry storm; the client tries again only slowly', async () => {
    emulator.addDevice('cs-bad');
    const wrong = `HostName=${emulator.hubHostName};DeviceId=cs-bad;SharedAccessKey=${KEY_A}`;
    const refused: unknown[] = [];
    const off = emulator.on('connection', (e) => {
      if (e.type === 'refused') refused.push(e);
    });
    const device = boot({ connectionString: wrong });
    // Not failed: refusals can clear (a key rotated back, a re-enabled device), so the client tries again after
    // stoppedRetryMs (15 min by default) and the device starts whenever it connects.
    expect(await device.firmware.start()).toBe('connecting');
    expect(device.firmware.failure).toBeUndefined();
    expect(logged(device, /firmware: the hub connection is not up yet: the hub refused the credentials: .*; trying again in (9\d\d|1[01]\d\d) s, or at once on updateCredentials\(\)/)).toBe(true);
    expect(device.lines.join('\n')).not.toContain(KEY_A);
    await new Promise((r) => setTimeout(r, 500));
    expect(refused).toHaveLength(1);
    off();
  });
});

describe('DPS', () => {
  test('first boot provisions and stores; a reboot through the method skips DPS and comes back', async () => {
    emulator.dps!.enrollments.addIndividual({
      registrationId: 'dps-dev',
      attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B },
      pollsBeforeAssigned: 1,
      retryAfterSeconds: 0,
    });
    const store = new FileStore({ path: join(folder, 'dps-dev.bin') });
    const config = { idScope: emulator.dps!.idScope, registrationId: 'dps-dev', symmetricKey: KEY_A, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}` };
    const device = boot(config, { store });
    expect(await device.firmware.start()).toBe('running');
    expect(device.states).toEqual(['waiting-for-clock', 'provisioning', 'connecting', 'running']);
    expect(logged(device, /boot: DPS assigned hub localhost:\d+, device dps-dev; assignment stored/)).toBe(true);
    expect(store.keys()).toContain('dps.assignment');
    // Methods reach the device once its subscriptions are in place; the device-info report comes after them.
    await until(device, /app: device info reported/);

    const dpsConnections: unknown[] = [];
    const off = emulator.dps!.on('connection', (e) => dpsConnections.push(e));
    const back = emulator.waitFor('connection', (e) => e.type === 'connected' && e.deviceId === 'dps-dev', 10_000);
    const answer = await emulator.invokeMethod('dps-dev', 'reboot');
    expect(answer).toEqual({ status: 200, payload: { rebooting: true, inMs: 1000 } });
    await back;
    await until(device, /firmware: restarting \(restart #1\)/);
    await until(device, /boot: found a stored assignment: hub localhost:\d+, device dps-dev; skipping DPS/);
    await until(device, /firmware: connected to the hub as device dps-dev/, 10_000, 2);
    expect(device.firmware.state).toBe('running');
    expect(dpsConnections).toEqual([]);
    off();
  });

  test('group enrollment: the device derives its key; the hub accepts it', async () => {
    const groupKey = Buffer.alloc(32, 9).toString('base64');
    emulator.dps!.enrollments.addGroup({
      enrollmentGroupId: 'group-main',
      attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: KEY_B },
      pollsBeforeAssigned: 0,
      // IoT Central's side: the application's published device template.
      deviceTemplates: ['dtmi:com:example:Thermostat;1'],
    });
    const modelId = 'dtmi:com:example:Thermostat;1';
    const device = boot({ idScope: emulator.dps!.idScope, registrationId: 'grp-dev-1', groupKey, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}`, modelId });
    expect(await device.firmware.start()).toBe('running');
    expect(emulator.isConnected('grp-dev-1')).toBe(true);
    // The model id reached DPS in the register body (IoT Central picks the device template by it).
    expect(emulator.dps!.getRegistration('grp-dev-1')?.payload).toEqual({ modelId });
    expect(emulator.dps!.getRegistration('grp-dev-1')?.deviceTemplate).toBe(modelId);
    // Another model id is provisioned all the same, with no template (IoT Central's "unassigned").
    const other = boot({ idScope: emulator.dps!.idScope, registrationId: 'grp-dev-2', groupKey, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}`, modelId: 'dtmi:com:example:Other;1' });
    expect(await other.firmware.start()).toBe('running');
    expect(emulator.dps!.getRegistration('grp-dev-2')?.deviceTemplate).toBe('unassigned');
  });

  test('an unknown registration fails for good with DPS named as the reason', async () => {
    const device = boot({ idScope: emulator.dps!.idScope, registrationId: 'nobody', symmetricKey: KEY_A, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}` });
    expect(await device.firmware.start()).toBe('failed');
    expect(device.firmware.failure).toMatch(/^cannot reach the hub: /);
    expect(device.firmware.failure).not.toContain(KEY_A);
  });
});

describe('identity stored on the device (iot-store)', () => {
  test('hub settings in the store and the key in the primary tag', async () => {
    emulator.addDevice('stored-dev', { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B });
    const store = new FileStore({ path: join(folder, 'stored.bin') });
    expect(new SecurityTagStore(store).write(10, { symmetricKey: KEY_A }).ok).toBe(true);
    expect(
      new DeviceConfigStore(store).save({ hub: { hostName: emulator.hubHostName, deviceId: 'stored-dev', auth: 'symmetric-key' }, tags: { primary: 10 }, trust: 'extend' }).ok,
    ).toBe(true);
    const device = boot({}, { store });
    expect(await device.firmware.start()).toBe('running');
    expect(logged(device, /identity from the configuration stored on the device/)).toBe(true);
  });

  test('nothing configured anywhere: failed, saying what to do', async () => {
    const device = boot({});
    expect(await device.firmware.start()).toBe('failed');
    expect(device.firmware.failure).toBe(
      'cannot connect: no identity configured: give a connection string or DPS settings, or store them with `iot-store config set`',
    );
  });
});

describe('boot guards', () => {
  test('a configuration error names the field and connects nowhere', async () => {
    const device = boot({ connectionString: 'HostName=x;SharedAccessKey=abc' });
    expect(await device.firmware.start()).toBe('failed');
    expect(device.firmware.failure).toBe('configuration error: connectionString: DeviceId: is required');
    expect(device.states).toEqual(['failed']);
  });

  test('the firmware waits for the wall clock before signing anything', async () => {
    emulator.addDevice('clock-dev');
    const device = boot({ connectionString: emulator.connectionString('clock-dev') }, { clockNotSet: true });
    const started = device.firmware.start();
    await until(device, /waiting for the wall clock to be set/);
    await new Promise((r) => setTimeout(r, 300));
    expect(device.firmware.state).toBe('waiting-for-clock');
    expect(emulator.isConnected('clock-dev')).toBe(false);
    device.clock.markSet();
    expect(await started).toBe('running');
    expect(logged(device, /wall clock set after \d+ ms/)).toBe(true);
  });

  test('stop() while waiting for the clock ends the boot at once', async () => {
    const device = boot({ connectionString: emulator.connectionString('clock-dev') }, { clockNotSet: true });
    const started = device.firmware.start();
    await until(device, /waiting for the wall clock/);
    await device.firmware.stop();
    expect(await started).toBe('stopped');
    expect(device.states).toEqual(['waiting-for-clock', 'stopping', 'stopped']);
  });

  test('a platform reboot hook replaces the in-place restart', async () => {
    emulator.addDevice('hook-dev');
    let reboots = 0;
    const device = boot({ connectionString: emulator.connectionString('hook-dev') }, { platform: { reboot: () => reboots++ } });
    expect(await device.firmware.start()).toBe('running');
    await until(device, /app: device info reported/);
    expect((await emulator.invokeMethod('hook-dev', 'reboot')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    expect(reboots).toBe(1);
    expect(logged(device, /firmware: restarting/)).toBe(false);
  });
});

