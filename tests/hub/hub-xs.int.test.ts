// End to end on the real XS engine: the HubClient bundled for XS, running in an xsnap worker, its transport a
// real node:tls socket reached over the bridge, against the emulator. Telemetry, reported and desired
// properties, a direct method, C2D and a SAS renewal all cross the bridge.
import type { Emulator } from '../../emulator/src/emulator';
import { createNodeHost } from '../../hosts/node/index';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';
import { XsHostBridge } from '../helpers/xs-host-bridge';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { startHubEmulator, text, until } from './emulator-fixture';

let emulator: Emulator;
let xs: XsnapDriver;
let bridge: XsHostBridge;
const notices: Array<[string, BridgeValue | undefined]> = [];
const logLines: string[] = [];

function seen(name: string, match: (data: BridgeValue | undefined) => boolean): boolean {
  return notices.some(([n, d]) => n === name && match(d));
}

function waitNotice(name: string, match: (data: BridgeValue | undefined) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return until(() => seen(name, match), timeoutMs, what);
}

const isObject = (d: BridgeValue | undefined): d is { [key: string]: BridgeValue | undefined } =>
  typeof d === 'object' && d !== null && !(d instanceof Uint8Array) && !Array.isArray(d);

beforeAll(async () => {
  emulator = await startHubEmulator();
  emulator.addDevice('xs-dev');
  const script = await bundleForXs('tests/hub/xs/hub-entry.ts');
  const ports = createNodeHost({ logLevel: 'info', logger: { write: (line) => logLines.push(line) } });
  let driver: XsnapDriver | undefined;
  bridge = new XsHostBridge({ command: (bytes) => driver!.command(bytes) }, { ports, onApp: (name, data) => void notices.push([name, data]) });
  driver = xs = startXsnap({ name: 'hub-e2e', onRequest: bridge.handleRequest });
  await xs.evaluate(script);
}, 60_000);

afterAll(async () => {
  bridge?.shutdown();
  await bridge?.idle().catch(() => undefined);
  await xs?.close();
  await emulator?.stop();
});

describe('HubClient on the XS engine against the emulator', () => {
  it('connects, subscribes and reads the twin', async () => {
    await bridge.app('hub-start', {
      port: emulator.hubPort,
      ca: emulator.caDer,
      connectionString: emulator.connectionString('xs-dev'),
      sasTtlSeconds: 3,
    });
    await waitNotice('hub', (d) => d === 'ready', 'connect');
    expect(emulator.isConnected('xs-dev')).toBe(true);
    await waitNotice('desired', (d) => isObject(d) && d['full'] === true, 'the catch-up GET');
    await until(() => emulator.subscriptions('xs-dev').length === 4, 5000, 'subscriptions');
  });

  it('sends telemetry acknowledged by the hub', async () => {
    await bridge.app('send', { body: '{"temp":20}', id: 'xs-1' });
    await waitNotice('sent', (d) => d === 'xs-1', 'PUBACK');
    const message = emulator.telemetry('xs-dev').find((m) => text(m.body) === '{"temp":20}');
    expect(message?.systemProperties).toMatchObject({ '$.mid': 'xs-1', '$.ct': 'application/json' });
  });

  it('patches reported properties and receives a desired patch', async () => {
    await bridge.app('patch', JSON.stringify({ engine: 'xs' }));
    await waitNotice('patched', (d) => typeof d === 'number', 'the patch answer');
    expect(emulator.getTwin('xs-dev').reported['engine']).toBe('xs');
    const twin = emulator.patchDesired('xs-dev', { interval: 7 });
    const version = twin.desired['$version'];
    await waitNotice('desired', (d) => isObject(d) && d['version'] === version && d['full'] === false, 'the desired patch');
  });

  it('answers a direct method', async () => {
    expect(await emulator.invokeMethod('xs-dev', 'ping', { n: 1 })).toEqual({ status: 200, payload: { pong: { n: 1 }, engine: 'xs' } });
    expect((await emulator.invokeMethod('xs-dev', 'absent')).status).toBe(404);
  });

  it('receives and completes a C2D message', async () => {
    const completed = emulator.waitFor('c2d', (e) => e.deviceId === 'xs-dev' && e.outcome === 'completed');
    const id = emulator.sendC2D('xs-dev', 'hello xs');
    await completed;
    expect(seen('c2d', (d) => isObject(d) && d['messageId'] === id && text(d['payload'] as Uint8Array) === 'hello xs')).toBe(true);
  });

  it('renews its SAS token with a planned reconnect and keeps working', async () => {
    await waitNotice('hub', (d) => isObject(d) && d['disconnected'] === 'renewal', 'a renewal', 10_000);
    await until(() => notices.filter(([n, d]) => n === 'hub' && isObject(d) && 'connected' in d).length >= 2, 10_000, 'the reconnect');
    await bridge.app('send', { body: '{"after":"renewal"}', id: 'xs-2' });
    await waitNotice('sent', (d) => d === 'xs-2', 'PUBACK after renewal');
    expect(notices.filter(([n, d]) => n === 'hub' && isObject(d) && 'error' in d)).toEqual([]);
  }, 20_000);

  it('closes cleanly', async () => {
    await bridge.app('stop');
    await waitNotice('hub', (d) => d === 'closed', 'close');
    await until(() => !emulator.isConnected('xs-dev'), 5000, 'the hub to see the disconnect');
    await bridge.idle();
    expect(bridge.armedTimers).toBe(0);
  });
});
