// The boot flow on the Node host against the emulator (DPS and hub over real TLS on 127.0.0.1), with the real
// HubClient behind the hub link and a file-backed store: first boot provisions, a reboot skips DPS, reset
// provisions again, and a hub that keeps refusing the device sends it back to DPS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import type { DpsConnectionEvent } from '../../emulator/src/dps/dps-server';
import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { FileStore } from '../../hosts/node/file-store';
import { BootFlow, type BootConfig } from '../../src/boot/boot';
import { hubClientConnector } from '../../src/boot/hub-client-connector';
import type { BootState } from '../../src/boot/boot-state';
import type { HubClient } from '../../src/hub/hub-client';
import type { KeyValueStore } from '../../src/ports';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const tls = createTlsMaterial();
const FAST_BACKOFF = { minDelayMs: 50, maxDelayMs: 400, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 };

let emulator: Emulator;
let folder: string;
let dpsConnections: DpsConnectionEvent[];
const flows: BootFlow<HubClient>[] = [];

beforeEach(async () => {
  emulator = await Emulator.start({ persist: false, tls });
  folder = mkdtempSync(join(tmpdir(), 'boot-int-'));
  dpsConnections = [];
  emulator.dps!.on('connection', (e) => dpsConnections.push(e));
  emulator.dps!.enrollments.addIndividual({
    registrationId: 'boot-dev',
    attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B },
    deviceId: 'boot-device-{registrationId}',
    pollsBeforeAssigned: 1,
    retryAfterSeconds: 0,
  });
});

afterEach(async () => {
  for (const flow of flows.splice(0)) await flow.stop();
  await emulator.stop();
  rmSync(folder, { recursive: true, force: true });
});

interface Device {
  flow: BootFlow<HubClient>;
  logs: string[];
  states: BootState[];
  store: KeyValueStore;
}

/** A "power-on": new ports, a new flow, the same store file. */
function bootDevice(config: Partial<BootConfig> = {}): Device {
  const logs: string[] = [];
  const ports = {
    transport: createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 200 }),
    timers: createNodeTimers(),
    clock: createNodeClock(),
    crypto: createNodeCrypto(),
    logger: { log: (level: string, message: string) => void logs.push(`${level} ${message}`) },
  };
  const store = new FileStore({ path: join(folder, 'flash.bin') });
  const hub = hubClientConnector(ports, { trustedCAs: [emulator.caDer], backoff: FAST_BACKOFF, connectTimeoutMs: 5000 });
  const flow = new BootFlow<HubClient>(
    { ...ports, store, hub },
    {
      dps: {
        identity: { kind: 'dps', idScope: emulator.dps!.idScope, registrationId: 'boot-dev', credential: { kind: 'sas', key: KEY_A } },
        endpoint: `127.0.0.1:${emulator.dpsPort}`,
        trustedCAs: [emulator.caDer],
      },
      backoff: FAST_BACKOFF,
      ...config,
    },
  );
  const states: BootState[] = [];
  flow.on('state', ({ state }) => states.push(state));
  flows.push(flow);
  return { flow, logs, states, store };
}

function connected(device: Device, count = 1, timeoutMs = 10_000): Promise<void> {
  let seen = 0;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected ${count} time(s) within ${timeoutMs} ms; logs:\n${device.logs.join('\n')}`)), timeoutMs);
    const off = device.flow.on('connected', () => {
      if (++seen < count) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe('first boot and reboot', () => {
  test('the first boot provisions and stores; a reboot over the same store goes to the hub without DPS', async () => {
    const first = bootDevice();
    const up = connected(first);
    first.flow.start();
    await up;
    expect(first.flow.currentAssignment).toMatchObject({ hubHost: emulator.hubHostName, deviceId: 'boot-device-boot-dev' });
    expect(emulator.isConnected('boot-device-boot-dev')).toBe(true);
    expect(dpsConnections).toHaveLength(1);
    await first.flow.stop();

    const second = bootDevice();
    const again = connected(second);
    second.flow.start();
    await again;
    expect(dpsConnections).toHaveLength(1);
    expect(second.states).toEqual(['loading', 'connecting', 'connected']);
    expect(second.logs).toContain(`info boot: found a stored assignment: hub ${emulator.hubHostName}, device boot-device-boot-dev; skipping DPS`);
  });

  test('the DPS connection is closed before the hub connection opens', async () => {
    const device = bootDevice();
    const up = connected(device);
    device.flow.start();
    await up;
    const closedAt = device.logs.indexOf('debug dps: DPS connection closed');
    const hubAt = device.logs.findIndex((l) => l.startsWith('info hub: connecting to'));
    expect(closedAt).toBeGreaterThan(-1);
    expect(hubAt).toBeGreaterThan(closedAt);
  });
});

describe('reset', () => {
  test('reset deletes the stored assignment and provisions again', async () => {
    const device = bootDevice();
    const first = connected(device);
    device.flow.start();
    await first;
    const second = connected(device);
    await device.flow.reset();
    await second;
    expect(dpsConnections).toHaveLength(2);
    expect(device.logs).toContain('info boot: reset: the stored assignment is deleted');
  });
});

describe('the hub refusing the device sends it back to DPS', () => {
  test('a device deleted from the hub is refused, re-provisioned and connected again', async () => {
    const device = bootDevice();
    const first = connected(device);
    device.flow.start();
    await first;
    const second = connected(device);
    // Deleting the device kicks it; its reconnection is refused (unknown identity), which is an auth failure.
    emulator.registry.removeDevice('boot-device-boot-dev');
    await second;
    expect(dpsConnections).toHaveLength(2);
    expect(emulator.isConnected('boot-device-boot-dev')).toBe(true);
    expect(device.logs.some((l) => l.startsWith('info boot: provisioning again: the hub refused the credentials'))).toBe(true);
  });

  test('repeated refusals that are not auth (CONNACK 3) re-provision after maxHubFailures', async () => {
    const device = bootDevice({ maxHubFailures: 3 });
    const first = connected(device);
    device.flow.start();
    await first;
    emulator.faults.refuseConnect('boot-device-boot-dev', 3, { count: 3 });
    const second = connected(device);
    emulator.faults.dropConnection('boot-device-boot-dev');
    await second;
    expect(dpsConnections).toHaveLength(2);
    expect(device.logs).toContain(
      'warn boot: hub connection failed (connecting failed: broker refused the connection: return code 3 (server unavailable)); failure 3 of 3 before asking DPS again',
    );
    // The kick itself was a network event: not counted.
    expect(device.logs.some((l) => l.startsWith('info boot: hub unreachable (connection lost'))).toBe(true);
  });
});
