// No dead end for a fixed-hub device (issue 12): a device on a connection string that the hub refuses with
// CONNACK 4 or 5 tries again slowly (the hub client's stoppedRetryMs, short here) and connects once the fault
// clears, on its first connection and on a reconnection alike. The emulator over TLS on 127.0.0.1 plays the hub;
// waits are for events, bounded by a few seconds.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeHost } from '../../hosts/node';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { Firmware, type FirmwareState } from '../../src/main';

const FAST = {
  backoff: { minDelayMs: 50, maxDelayMs: 400, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 },
  connectTimeoutMs: 5000,
  stoppedRetryMs: 300,
};

let emulator: Emulator;
const running: Firmware[] = [];

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: createTlsMaterial(), dps: false });
});

afterEach(async () => {
  for (const firmware of running.splice(0)) await firmware.stop();
  emulator.faults.clear();
});

afterAll(async () => {
  await emulator.stop();
});

interface Device {
  firmware: Firmware;
  lines: string[];
  states: FirmwareState[];
}

function boot(deviceId: string): Device {
  const lines: string[] = [];
  const host = createNodeHost({ logLevel: 'debug', logger: { write: (line) => void lines.push(line) } });
  const firmware = new Firmware(host, { telemetryIntervalMs: 1000, connectionString: emulator.connectionString(deviceId) }, {
    hostKind: 'node-test',
    defaultRoots: loadDefaultRoots(),
    extraCAs: [emulator.caDer],
    hubClient: FAST,
  });
  const states: FirmwareState[] = [];
  firmware.on('state', ({ state }) => states.push(state));
  running.push(firmware);
  return { firmware, lines, states };
}

function refusals(deviceId: string): unknown[] {
  const seen: unknown[] = [];
  emulator.on('connection', (e) => {
    if (e.type === 'refused' && e.clientId === deviceId) seen.push(e);
  });
  return seen;
}

describe('a fixed-hub device refused with CONNACK 4 or 5 connects again once the fault clears', () => {
  for (const returnCode of [4, 5]) {
    test(`CONNACK ${returnCode} on the first connection: slow retry, then running and sending telemetry`, async () => {
      const id = `refused-first-${returnCode}`;
      emulator.addDevice(id);
      emulator.faults.refuseConnect(id, returnCode, { count: 2 });
      const refused = refusals(id);
      const device = boot(id);
      const telemetry = emulator.waitFor('telemetry', (m) => m.deviceId === id, 10_000);

      // The first attempt was refused; the firmware is not failed, the client waits its slow retry.
      expect(await device.firmware.start()).toBe('connecting');
      expect(device.firmware.failure).toBeUndefined();
      expect(device.lines.some((l) => /the hub refused the credentials: .*; trying again in 3[0-9]{2} ms, or at once on updateCredentials\(\)/.test(l))).toBe(true);

      await telemetry;
      expect(device.firmware.state).toBe('running');
      expect(refused).toHaveLength(2);
      expect(device.states).toEqual(['waiting-for-clock', 'connecting', 'running']);
    });
  }

  test('CONNACK 5 on a reconnection of a running device: it comes back, and telemetry flows again', async () => {
    const id = 'refused-later';
    emulator.addDevice(id);
    const device = boot(id);
    expect(await device.firmware.start()).toBe('running');
    await emulator.waitFor('telemetry', (m) => m.deviceId === id, 10_000);

    emulator.faults.refuseConnect(id, 5, { count: 3 });
    const refused = refusals(id);
    const back = emulator.waitFor('connection', (e) => e.type === 'connected' && e.deviceId === id, 10_000);
    emulator.faults.dropConnection(id);
    await back;
    expect(refused).toHaveLength(3);
    const after = Date.now();
    const message = await emulator.waitFor('telemetry', (m) => m.deviceId === id && Date.now() >= after, 10_000);
    expect(message.deviceId).toBe(id);
    expect(device.firmware.state).toBe('running');
  });
});
