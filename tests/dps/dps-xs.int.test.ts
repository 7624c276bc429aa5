// End to end on the real XS engine: the DPS client and the boot flow bundled for XS, running in an xsnap worker,
// their sockets real node:tls connections reached over the bridge, against the emulator's DPS and hub.
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import type { DpsConnectionEvent, DpsRequestEvent } from '../../emulator/src/dps/dps-server';
import { createNodeHost } from '../../hosts/node/index';
import { createMemoryStore } from '../../hosts/node/memory-store';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { XsHostBridge } from '../helpers/xs-host-bridge';
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';

const GROUP_KEY = Buffer.alloc(64, 7).toString('base64');
const GROUP_KEY_2 = Buffer.alloc(64, 8).toString('base64');
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

let emulator: Emulator;
let xs: XsnapDriver;
let bridge: XsHostBridge;
const notices: Array<[string, BridgeValue | undefined]> = [];
const logLines: string[] = [];
const dpsConnections: DpsConnectionEvent[] = [];
const dpsRequests: DpsRequestEvent[] = [];

function setup(registrationId: string, key: string, group: boolean): BridgeValue {
  return { endpoint: `127.0.0.1:${emulator.dpsPort}`, idScope: emulator.dps!.idScope, ca: emulator.caDer, registrationId, key, group };
}

async function until(probe: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; log:\n${logLines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function register(data: BridgeValue): Promise<BridgeValue | undefined> {
  const before = notices.length;
  await bridge.app('register', data);
  await until(() => notices.slice(before).some(([name]) => name === 'registered'), 'the registration outcome');
  return notices.slice(before).find(([name]) => name === 'registered')![1];
}

const connectedNotices = (): BridgeValue[] => notices.filter(([name]) => name === 'boot-connected').map(([, data]) => data ?? null);

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: createTlsMaterial() });
  const dps = emulator.dps!;
  dps.on('connection', (e) => dpsConnections.push(e));
  dps.on('request', (e) => dpsRequests.push(e));
  dps.enrollments.addGroup({
    enrollmentGroupId: 'xs-fleet',
    attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY_2 },
    pollsBeforeAssigned: 2,
    retryAfterSeconds: 1,
    deviceId: 'xs-{registrationId}',
  });
  dps.enrollments.addIndividual({
    registrationId: 'xs-boot',
    attestation: { type: 'symmetricKey', primaryKey: KEY_A, secondaryKey: KEY_B },
    retryAfterSeconds: 0,
  });
  const script = await bundleForXs('tests/dps/xs/dps-entry.ts');
  const ports = createNodeHost({ logLevel: 'debug', store: createMemoryStore(), logger: { write: (line) => logLines.push(line) } });
  let driver: XsnapDriver | undefined;
  bridge = new XsHostBridge({ command: (bytes) => driver!.command(bytes) }, { ports, onApp: (name, data) => void notices.push([name, data]) });
  driver = xs = startXsnap({ name: 'dps-e2e', onRequest: bridge.handleRequest });
  await xs.evaluate(script);
}, 60_000);

afterAll(async () => {
  await bridge?.app('boot-stop').catch(() => undefined);
  bridge?.shutdown();
  await bridge?.idle().catch(() => undefined);
  await xs?.close();
  await emulator?.stop();
});

describe('the DPS client on the XS engine', () => {
  it('provisions a group device: derived key, two polls honouring retry-after, device id from DPS, payload round trip', async () => {
    const result = await register(setup('xs-sensor-1', GROUP_KEY, true));
    expect(result).toEqual({
      assignedHub: emulator.hubHostName,
      deviceId: 'xs-xs-sensor-1',
      registrationId: 'xs-sensor-1',
      substatus: 'initialAssignment',
      payload: '{"engine":"xs"}',
      states: 'connecting subscribing registering waiting polling waiting polling closing done',
    });
    const mine = dpsRequests.filter((r) => r.registrationId === 'xs-sensor-1');
    expect(mine.map((r) => `${r.kind} ${r.status}`)).toEqual(['register 202', 'poll 202', 'poll 200']);
    expect(mine[2]!.atMs - mine[1]!.atMs).toBeGreaterThanOrEqual(990);
    expect(emulator.registry.getDevice('xs-xs-sensor-1')?.auth).toMatchObject({ type: 'sas' });
    expect(logLines.some((l) => l.includes('dps: DPS connection closed'))).toBe(true);
  }, 20_000);

  it('reports an unknown registration as a final unauthorized error', async () => {
    const result = await register(setup('xs-stranger', KEY_A, false));
    expect(result).toMatchObject({ failed: 'unauthorized' });
  });
});

describe('the boot flow on the XS engine', () => {
  it('provisions, stores and connects; a reboot over the same store skips DPS', async () => {
    await bridge.app('boot', setup('xs-boot', KEY_A, false));
    await until(() => connectedNotices().length === 1, 'the first connection');
    expect(connectedNotices()[0]).toEqual({ hubHost: emulator.hubHostName, deviceId: 'xs-boot', fromStore: false });
    expect(emulator.isConnected('xs-boot')).toBe(true);
    const registrations = dpsConnections.filter((c) => c.registrationId === 'xs-boot').length;
    expect(registrations).toBe(1);

    await bridge.app('boot-stop');
    await until(() => !emulator.isConnected('xs-boot'), 'the hub to see the device go');
    await bridge.app('boot', setup('xs-boot', KEY_A, false));
    await until(() => connectedNotices().length === 2, 'the connection after the reboot');
    expect(connectedNotices()[1]).toEqual({ hubHost: emulator.hubHostName, deviceId: 'xs-boot', fromStore: true });
    expect(dpsConnections.filter((c) => c.registrationId === 'xs-boot')).toHaveLength(registrations);
  }, 30_000);

  it('a reset provisions again', async () => {
    await bridge.app('boot-reset');
    await until(() => connectedNotices().length === 3, 'the connection after the reset');
    expect(connectedNotices()[2]).toEqual({ hubHost: emulator.hubHostName, deviceId: 'xs-boot', fromStore: false });
    expect(dpsConnections.filter((c) => c.registrationId === 'xs-boot')).toHaveLength(2);
  }, 30_000);
});
