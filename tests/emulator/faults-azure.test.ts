// Azure's fault-injection telemetry properties (AzIoTHub_FaultOperationType ...), as the SDK end-to-end tests
// send them, each observed from the device side.
import type { Emulator } from '../../emulator/src/emulator';
import type { RawMqttClient } from '../helpers/raw-mqtt';
import { encodeComponent } from '../../emulator/src/hub/topics';
import { sasDeviceEachTest } from './hub-fixture';

const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
beforeEach(() => {
  emulator = bed.emulator;
});

const device = (subscribe: string[] = []): Promise<RawMqttClient> => bed.connect({ subscribe });
const connackCode = bed.connackCode;

function askForFault(client: RawMqttClient, type: string, delaySecs: number, durationSecs: number): number {
  const bag = [
    ['AzIoTHub_FaultOperationType', type],
    ['AzIoTHub_FaultOperationCloseReason', 'boom'],
    ['AzIoTHub_FaultOperationDelayInSecs', String(delaySecs)],
    ['AzIoTHub_FaultOperationDurationInSecs', String(durationSecs)],
  ]
    .map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`)
    .join('&');
  return client.publish(`devices/d1/messages/events/${bag}`, 'fault', 1)!;
}

describe('KillTcp', () => {
  it('acknowledges the message, then drops the connection after the delay', async () => {
    const client = await device();
    const event = emulator.waitFor('connection', (e) => e.type === 'disconnected');
    const id = askForFault(client, 'KillTcp', 0.3, 0);
    expect((await client.next('puback')).messageId).toBe(id);
    const closed = await client.waitClosed();
    expect(closed.afterMs).toBeGreaterThanOrEqual(300);
    expect(await event).toEqual(expect.objectContaining({ reason: 'fault', detail: 'fault KillTcp: boom' }));
  });
});

describe('ShutDownMqtt', () => {
  it('closes the connection cleanly (TLS close, no error)', async () => {
    const client = await device();
    const event = emulator.waitFor('connection', (e) => e.type === 'disconnected');
    askForFault(client, 'ShutDownMqtt', 0, 0);
    await client.next('puback');
    expect((await client.waitClosed()).hadError).toBe(false);
    expect(await event).toEqual(expect.objectContaining({ reason: 'fault', detail: 'fault ShutDownMqtt: boom' }));
  });
});

describe('InvokeThrottling', () => {
  it('for the duration: withholds PUBACKs, answers twin requests 429, refuses new connections with 3', async () => {
    const client = await device(['$iothub/twin/res/#']);
    const fired = emulator.waitFor('fault');
    askForFault(client, 'InvokeThrottling', 0, 0.5);
    await client.next('puback');
    expect(await fired).toEqual({ kind: 'InvokeThrottling', target: 'd1', detail: 'reason boom, duration 500 ms' });
    client.publish('devices/d1/messages/events/', 'throttled', 1);
    expect(await client.receives('puback', 150)).toBe(false);
    client.publish('$iothub/twin/GET/?$rid=1', '', 0);
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/429/?$rid=1');
    await client.close();
    expect(await connackCode()).toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await connackCode()).toBe(0);
  });
});

describe('InvokeAuthError', () => {
  it('drops the connection and refuses reconnects with CONNACK 5 for the duration', async () => {
    const client = await device();
    askForFault(client, 'InvokeAuthError', 0, 0.4);
    await client.waitClosed();
    expect(await connackCode()).toBe(5);
    await new Promise((r) => setTimeout(r, 450));
    expect(await connackCode()).toBe(0);
  });
});

describe('InvokeMaxMessageQuota', () => {
  it('drops the connection and refuses reconnects with CONNACK 3 for the duration', async () => {
    const client = await device();
    askForFault(client, 'InvokeMaxMessageQuota', 0, 0.4);
    await client.waitClosed();
    expect(await connackCode()).toBe(3);
  });
});

describe('ordinary properties', () => {
  it('ignores an unknown fault type and records the message as telemetry', async () => {
    const client = await device();
    askForFault(client, 'NotAFault', 0, 0);
    await client.next('puback');
    expect(await client.receives('puback', 100)).toBe(false);
    expect(client.isOpen).toBe(true);
    expect(emulator.telemetry('d1')[0].properties['AzIoTHub_FaultOperationType']).toBe('NotAFault');
  });
});
