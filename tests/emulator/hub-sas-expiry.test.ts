// SAS expiry on a live connection: IoT Hub checks the token at CONNECT and closes the connection when the token
// runs out (IoTHubUnauthorized, 401003). A device must reconnect with a fresh token before then; ours does.
import type { Emulator } from '../../emulator/src/emulator';
import type { ConnectionEvent } from '../../emulator/src/hub/hub-events';
import { emulatorHubClient } from '../../soak/lib/emulator-client';
import { KEY_A, openRaw, sasDeviceEachTest, sasFor, usernameFor } from './hub-fixture';
import type { RawMqttClient } from '../helpers/raw-mqtt';

const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
const opened: RawMqttClient[] = [];
beforeEach(() => {
  emulator = bed.emulator;
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw device (it never renews anything) connected with a token that expires at `expiry` (Unix seconds). */
async function rawDevice(expiry: number): Promise<RawMqttClient> {
  const client = await openRaw(emulator);
  opened.push(client);
  const connack = await client.mqttConnect({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1', { expiry }) });
  expect(connack.returnCode).toBe(0);
  return client;
}

function disconnects(): Array<Extract<ConnectionEvent, { type: 'disconnected' }>> {
  return emulator.connectionLog().filter((e): e is Extract<ConnectionEvent, { type: 'disconnected' }> => e.type === 'disconnected');
}

describe('SAS expiry: the hub closes a connection whose token runs out', () => {
  it('a device whose token is never renewed is disconnected by the emulator at expiry', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 2;
    const client = await rawDevice(expiry);
    const closedEvent = emulator.waitFor('connection', (e) => e.type === 'disconnected', 4000);
    // Alive until the token runs out...
    await sleep(Math.max(0, expiry * 1000 - Date.now() - 300));
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    // ...then closed by the hub, not by the device.
    await client.waitClosed(2000);
    const event = await closedEvent;
    expect(event).toEqual({
      type: 'disconnected',
      deviceId: 'd1',
      at: expect.any(String),
      reason: 'token-expired',
      detail: `SAS token expired at ${new Date(expiry * 1000).toISOString()} (IoTHubUnauthorized 401003)`,
    });
    expect(Date.parse((event as { at: string }).at)).toBeGreaterThanOrEqual(expiry * 1000);
    expect(emulator.isConnected('d1')).toBe(false);
  });

  it('the same token is then refused (CONNACK 5); a fresh one connects', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 1;
    const client = await rawDevice(expiry);
    await client.waitClosed(2500);
    const again = await openRaw(emulator);
    opened.push(again);
    expect((await again.mqttConnect({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1', { expiry }) })).returnCode).toBe(5);
    await rawDevice(Math.floor(Date.now() / 1000) + 3600);
    expect(emulator.isConnected('d1')).toBe(true);
  });

  it('a token valid beyond the longest timer (30 days) does not close the connection early', async () => {
    const client = await rawDevice(Math.floor(Date.now() / 1000) + 30 * 24 * 3600);
    await sleep(100);
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(client.isOpen).toBe(true);
    expect(disconnects()).toEqual([]);
  });

  it('a connection closed before expiry leaves no timer behind: one disconnect, by the device', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 1;
    const client = await rawDevice(expiry);
    await client.close();
    await sleep(Math.max(0, expiry * 1000 - Date.now() + 300));
    expect(disconnects().map((e) => e.reason)).toEqual(['peer-closed']);
  });
});

describe('SAS expiry: our hub client renews before the hub would cut it', () => {
  it('with a 2 s token, it reconnects with a fresh token (planned renewal) and the hub never closes it for expiry', async () => {
    const client = emulatorHubClient(emulator, { deviceId: 'd1', key: KEY_A, config: { sasTtlSeconds: 2 } });
    const reasons: string[] = [];
    client.on('disconnected', ({ reason }) => reasons.push(reason.code));
    try {
      await client.connect();
      await sleep(4500);
      const hubSide = disconnects();
      expect(hubSide.map((e) => e.reason)).not.toContain('token-expired');
      expect(hubSide.length).toBeGreaterThanOrEqual(2);
      expect(new Set(reasons)).toEqual(new Set(['renewal']));
      expect(client.state).toBe('connected');
      expect(emulator.isConnected('d1')).toBe(true);
    } finally {
      await client.close();
    }
  });
});
