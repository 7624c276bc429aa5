// The firmware on the real XS engine (xsnap) over MQTT over WebSockets: src/main.ts and src/ws bundled for XS,
// the TLS sockets real node:tls connections reached over the bridge, against the emulator's WebSocket endpoints
// for DPS and the hub: provisioning, telemetry, a desired property, a direct method, C2D and a SAS renewal.
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeHost } from '../../hosts/node/index';
import { createMemoryStore } from '../../hosts/node/memory-store';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { XsHostBridge } from '../helpers/xs-host-bridge';
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';

const GROUP_KEY = Buffer.alloc(32, 6).toString('base64');
let emulator: Emulator;
let xs: XsnapDriver;
let bridge: XsHostBridge;
const notices: Array<[string, BridgeValue | undefined]> = [];
const logLines: string[] = [];

async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; log:\n${logLines.slice(-40).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: createTlsMaterial(), hubWsPort: 0, dpsWsPort: 0 });
  emulator.dps!.enrollments.addGroup({ enrollmentGroupId: 'xs-ws', attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY }, pollsBeforeAssigned: 1, retryAfterSeconds: 0 });
  const script = await bundleForXs('tests/ws/xs/firmware-entry.ts');
  const ports = createNodeHost({ logLevel: 'debug', store: createMemoryStore(), logger: { write: (line) => logLines.push(line) } });
  let driver: XsnapDriver | undefined;
  bridge = new XsHostBridge({ command: (bytes) => driver!.command(bytes) }, { ports, onApp: (name, data) => void notices.push([name, data]) });
  driver = xs = startXsnap({ name: 'ws-e2e', onRequest: bridge.handleRequest });
  await xs.evaluate(script);
}, 60_000);

afterAll(async () => {
  await bridge?.app('stop').catch(() => undefined);
  bridge?.shutdown();
  await bridge?.idle().catch(() => undefined);
  await xs?.close();
  await emulator?.stop();
});

describe('the firmware on XS over MQTT over WebSockets', () => {
  it('provisions and connects over WebSockets, then telemetry, twin, a method, C2D and a SAS renewal', async () => {
    const config = {
      transport: 'mqtt-ws',
      idScope: emulator.dps!.idScope,
      registrationId: 'xs-ws-dev',
      groupKey: GROUP_KEY,
      dpsEndpoint: `127.0.0.1:${emulator.dpsPort}`,
      dpsWsEndpoint: `127.0.0.1:${emulator.dpsWsPort}`,
      hubWsEndpoint: `127.0.0.1:${emulator.hubWsPort}`,
      telemetryIntervalMs: 1000,
    };
    await bridge.app('boot', { config: JSON.stringify(config), ca: emulator.caDer });
    await until('the firmware running', () => notices.some(([name]) => name === 'started'));
    expect(notices.find(([name]) => name === 'started')![1]).toEqual({ state: 'running', failure: null });
    expect(logLines.some((l) => /dps: MQTT over WebSockets to 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(logLines.some((l) => /hub: MQTT over WebSockets to 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(emulator.wsUpgrades.dps).toBe(1);
    expect(emulator.isConnected('xs-ws-dev')).toBe(true);
    expect(emulator.dps!.getRegistration('xs-ws-dev')?.payload).toEqual({ modelId: 'dtmi:azureiotxs:firmware:Thermostat;1' });

    await until('telemetry', () => emulator.telemetry('xs-ws-dev').length >= 2);

    const reported = emulator.waitFor('twin', (e) => e.deviceId === 'xs-ws-dev' && e.section === 'reported' && 'telemetryInterval' in e.patch, 10_000);
    emulator.patchDesired('xs-ws-dev', { telemetryInterval: 3000 });
    expect((await reported).patch['telemetryInterval']).toMatchObject({ value: 3000, ac: 200 });

    expect((await emulator.invokeMethod('xs-ws-dev', 'getStatus', undefined, { timeoutMs: 5000 })).status).toBe(200);

    emulator.sendC2D('xs-ws-dev', 'hello xs over ws');
    await until('the C2D log line', () => logLines.some((l) => l.includes('C2D message received') && l.includes('"hello xs over ws"')));

    const upgrades = emulator.wsUpgrades.hub;
    await emulator.waitFor('connection', (e) => e.type === 'connected' && e.deviceId === 'xs-ws-dev', 10_000);
    expect(emulator.wsUpgrades.hub).toBe(upgrades + 1);
  }, 60_000);
});
