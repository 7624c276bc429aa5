// Direct methods: the request the device sees, the reply the caller gets, timeouts (504), offline (404).
import type { Emulator } from '../../emulator/src/emulator';
import type { AnyPacket, RawMqttClient } from '../helpers/raw-mqtt';
import { addSasDevice, connectDevice, startTestEmulator } from './hub-fixture';

let emulator: Emulator;
let device: RawMqttClient;

beforeEach(async () => {
  emulator = await startTestEmulator();
  addSasDevice(emulator, 'd1');
  device = await connectDevice(emulator, 'd1', { subscribe: ['$iothub/methods/POST/#'] });
});

afterEach(async () => {
  await device.close();
  await emulator.stop();
});

function ridOf(packet: AnyPacket): string {
  if (packet.cmd !== 'publish') throw new Error('not a publish');
  return /\?\$rid=([^&]+)/.exec(packet.topic)![1];
}

describe('invoke', () => {
  it('publishes the request with its JSON payload and resolves with the device reply', async () => {
    const result = emulator.invokeMethod('d1', 'reboot', { delay: 5 }, { timeoutMs: 2000 });
    const request = await device.next('publish');
    expect(request).toEqual(expect.objectContaining({ topic: expect.stringMatching(/^\$iothub\/methods\/POST\/reboot\/\?\$rid=[0-9a-f]+$/), qos: 0 }));
    expect(JSON.parse(Buffer.from((request as { payload: Buffer }).payload).toString())).toEqual({ delay: 5 });
    device.publish(`$iothub/methods/res/200/?$rid=${ridOf(request)}`, '{"ok":true}', 0);
    expect(await result).toEqual({ status: 200, payload: { ok: true } });
  });

  it('passes the device status through (e.g. 404 for an unknown method) and an empty body as null', async () => {
    const result = emulator.invokeMethod('d1', 'nope', undefined, { timeoutMs: 2000 });
    const request = await device.next('publish');
    device.publish(`$iothub/methods/res/404/?$rid=${ridOf(request)}`, '', 0);
    expect(await result).toEqual({ status: 404, payload: null });
  });

  it('answers 504 after the timeout and drops a late reply', async () => {
    const started = Date.now();
    const result = await (async () => {
      const pending = emulator.invokeMethod('d1', 'slow', null, { timeoutMs: 300 });
      const request = await device.next('publish');
      const settled = await pending;
      device.publish(`$iothub/methods/res/200/?$rid=${ridOf(request)}`, '{"late":true}', 0);
      return settled;
    })();
    expect(result).toEqual({ status: 504, payload: expect.objectContaining({ errorCode: 504101 }) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // The late reply neither crashes the hub nor closes the connection.
    device.send({ cmd: 'pingreq' });
    await device.next('pingresp');
  });

  it('answers 404 (404103) when the device is not subscribed to methods, and 404 (404001) for an unknown device', async () => {
    addSasDevice(emulator, 'd2');
    const other = await connectDevice(emulator, 'd2');
    expect(await emulator.invokeMethod('d2', 'x')).toEqual({ status: 404, payload: expect.objectContaining({ errorCode: 404103 }) });
    expect(await emulator.invokeMethod('ghost', 'x')).toEqual({ status: 404, payload: expect.objectContaining({ errorCode: 404001 }) });
    await other.close();
  });

  it('answers 404 (404103) for an offline device', async () => {
    await device.close();
    await emulator.waitFor('connection', (e) => e.type === 'disconnected');
    expect((await emulator.invokeMethod('d1', 'x')).status).toBe(404);
  });

  it('refuses method names that cannot travel in a topic', () => {
    expect(() => emulator.invokeMethod('d1', 'a/b')).toThrow(RangeError);
    expect(() => emulator.invokeMethod('d1', '')).toThrow(RangeError);
  });
});
