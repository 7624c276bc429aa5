// The firmware (src/main.ts on the Node host) over MQTT over WebSockets against the emulator: DPS and the hub
// both through `wss://…/$iothub/websocket` (real TLS on 127.0.0.1, the `ws` package on the emulator's side), then
// telemetry, a desired property, a direct method, C2D and a SAS renewal. Then the fallback: with the emulator's
// MQTT ports blocked, a device configured for MQTT gets through on WebSockets after `wsFallbackAfter` failures.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeHost } from '../../hosts/node';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { Firmware } from '../../src/main';
import { webSocketTransport } from '../../src/ws/ws-transport';

const GROUP_KEY = Buffer.alloc(32, 5).toString('base64');
const FAST = { backoff: { minDelayMs: 50, maxDelayMs: 200, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 }, connectTimeoutMs: 5000 };

let emulator: Emulator;
const running: Firmware[] = [];

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls: createTlsMaterial(), hubWsPort: 0, dpsWsPort: 0 });
  emulator.dps!.enrollments.addGroup({ enrollmentGroupId: 'ws-fleet', attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY }, pollsBeforeAssigned: 1, retryAfterSeconds: 0 });
});

afterEach(async () => {
  for (const firmware of running.splice(0)) await firmware.stop();
  emulator.blockMqttPorts(false);
});

afterAll(async () => {
  await emulator.stop();
});

function boot(registrationId: string, config: Record<string, unknown>, hubClient: Record<string, unknown> = {}): { firmware: Firmware; lines: string[] } {
  const lines: string[] = [];
  const host = createNodeHost({ logLevel: 'debug', logger: { write: (line) => void lines.push(line) } });
  const firmware = new Firmware(
    host,
    {
      telemetryIntervalMs: 1000,
      idScope: emulator.dps!.idScope,
      registrationId,
      groupKey: GROUP_KEY,
      dpsEndpoint: `127.0.0.1:${emulator.dpsPort}`,
      hubWsEndpoint: `127.0.0.1:${emulator.hubWsPort}`,
      dpsWsEndpoint: `127.0.0.1:${emulator.dpsWsPort}`,
      ...config,
    },
    { hostKind: 'node-test', defaultRoots: loadDefaultRoots(), extraCAs: [emulator.caDer], hubClient: { ...FAST, ...hubClient }, webSocket: webSocketTransport },
  );
  running.push(firmware);
  return { firmware, lines };
}

async function until(what: string, probe: () => boolean, lines: string[], timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; device log:\n${lines.slice(-40).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('transport mqtt-ws: the whole flow over WebSockets', () => {
  test('DPS, hub, telemetry, a desired property, a method, C2D and a SAS renewal', async () => {
    const before = emulator.wsUpgrades;
    const { firmware, lines } = boot('ws-dev-1', { transport: 'mqtt-ws' }, { sasTtlSeconds: 4 });
    expect([await firmware.start(), firmware.failure]).toEqual(['running', undefined]);
    expect(lines.some((l) => /dps: MQTT over WebSockets to 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(lines.some((l) => /hub: MQTT over WebSockets to 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(emulator.wsUpgrades.dps).toBe(before.dps + 1);
    expect(emulator.wsUpgrades.hub).toBeGreaterThan(before.hub);
    expect(emulator.isConnected('ws-dev-1')).toBe(true);

    await until('telemetry', () => emulator.telemetry('ws-dev-1').length >= 2, lines);

    const reported = emulator.waitFor('twin', (e) => e.deviceId === 'ws-dev-1' && e.section === 'reported' && 'telemetryInterval' in e.patch, 10_000);
    emulator.patchDesired('ws-dev-1', { telemetryInterval: 2000 });
    expect((await reported).patch['telemetryInterval']).toMatchObject({ value: 2000, ac: 200 });

    const answer = await emulator.invokeMethod('ws-dev-1', 'getStatus');
    expect(answer.status).toBe(200);

    emulator.sendC2D('ws-dev-1', 'over websockets', { kind: 'ws' });
    await until('the C2D log line', () => lines.some((l) => l.includes('C2D message received') && l.includes('"over websockets"')), lines);

    // A 4 s token is renewed (a planned reconnect) at 80 % of its life: a second connection, again over WebSockets.
    const upgradesBefore = emulator.wsUpgrades.hub;
    await emulator.waitFor('connection', (e) => e.type === 'connected' && e.deviceId === 'ws-dev-1', 10_000);
    expect(emulator.wsUpgrades.hub).toBe(upgradesBefore + 1);
    expect(emulator.isConnected('ws-dev-1')).toBe(true);
  });
});

describe('fallback: MQTT first, WebSockets after wsFallbackAfter failures', () => {
  test('with the MQTT ports blocked, DPS and the hub are reached on WebSockets after 2 failed attempts each', async () => {
    emulator.blockMqttPorts(true);
    const { firmware, lines } = boot('ws-dev-2', { wsFallbackAfter: 2 });
    expect([await firmware.start(), firmware.failure]).toEqual(['running', undefined]);
    expect(emulator.isConnected('ws-dev-2')).toBe(true);
    const dpsLines = lines.filter((l) => /dps: MQTT/.test(l));
    expect(dpsLines[0]).toMatch(/dps: MQTT to 127\.0\.0\.1:\d+$/);
    expect(dpsLines[1]).toMatch(/dps: MQTT over WebSockets to 127\.0\.0\.1:\d+ after 2 failed attempt\(s\)$/);
    const hubLines = lines.filter((l) => /hub: MQTT/.test(l));
    expect(hubLines[0]).toMatch(/hub: MQTT to localhost:\d+$/);
    expect(hubLines[1]).toMatch(/hub: MQTT over WebSockets to 127\.0\.0\.1:\d+ after 2 failed attempt\(s\)$/);
  });
});
