// Device twin over MQTT: GET, reported PATCH (merge, null delete, $version, 400, 413) and desired pushes.
import type { Emulator } from '../../emulator/src/emulator';
import type { IPublishPacket } from 'mqtt-packet';
import type { RawMqttClient } from '../helpers/raw-mqtt';
import { addSasDevice, connectDevice, startTestEmulator } from './hub-fixture';

let emulator: Emulator;
let device: RawMqttClient;

beforeEach(async () => {
  emulator = await startTestEmulator();
  addSasDevice(emulator, 'd1');
  device = await connectDevice(emulator, 'd1', { subscribe: ['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#'] });
});

afterEach(async () => {
  await device.close();
  await emulator.stop();
});

function text(packet: IPublishPacket): string {
  return Buffer.from(packet.payload).toString('utf8');
}

async function request(topic: string, body: string | Buffer): Promise<IPublishPacket> {
  device.publish(topic, body, 0);
  return device.next('publish');
}

describe('twin GET', () => {
  it('answers 200 with both sections and their $version on the response topic', async () => {
    const response = await request('$iothub/twin/GET/?$rid=1', '');
    expect(response).toEqual(expect.objectContaining({ topic: '$iothub/twin/res/200/?$rid=1', qos: 0 }));
    expect(JSON.parse(text(response))).toEqual({ desired: { $version: 1 }, reported: { $version: 1 } });
  });

  it('sends nothing when the device has not subscribed to the response topic', async () => {
    await device.close();
    device = await connectDevice(emulator, 'd1', { clean: true });
    device.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect(await device.receives('publish', 300)).toBe(false);
  });
});

describe('reported PATCH', () => {
  it('merges, deletes on null, and answers 204 with the new $version in the topic', async () => {
    const first = await request('$iothub/twin/PATCH/properties/reported/?$rid=10', '{"fw":{"version":"1.0","state":"ok"},"temp":20}');
    expect(first.topic).toBe('$iothub/twin/res/204/?$rid=10&$version=2');
    expect(text(first)).toBe('');
    const second = await request('$iothub/twin/PATCH/properties/reported/?$rid=11', '{"fw":{"state":null},"temp":null,"new":[1,2]}');
    expect(second.topic).toBe('$iothub/twin/res/204/?$rid=11&$version=3');
    expect(emulator.getTwin('d1').reported).toEqual({ fw: { version: '1.0' }, new: [1, 2], $version: 3 });
  });

  it('emits a twin event with the patch and version', async () => {
    const event = emulator.waitFor('twin');
    await request('$iothub/twin/PATCH/properties/reported/?$rid=1', '{"a":1}');
    expect(await event).toEqual({ deviceId: 'd1', section: 'reported', patch: { a: 1 }, version: 2 });
  });

  it.each([
    ['bad JSON', '{"a":'],
    ['a JSON array', '[1,2]'],
    ['a key with $', '{"$bad":1}'],
    ['a key with a dot', '{"a.b":1}'],
    ['nesting deeper than 10', `${'{"a":'.repeat(11)}1${'}'.repeat(11)}`],
  ])('answers 400 for %s and leaves the twin unchanged', async (_label, body) => {
    const response = await request('$iothub/twin/PATCH/properties/reported/?$rid=5', body);
    expect(response.topic).toBe('$iothub/twin/res/400/?$rid=5');
    expect(JSON.parse(text(response))).toEqual(expect.objectContaining({ errorCode: 400001 }));
    expect(emulator.getTwin('d1').reported).toEqual({ $version: 1 });
  });

  it('answers 413 for a patch over 32 KB, and keeps the connection', async () => {
    const body = JSON.stringify({ big: 'x'.repeat(4000), b: 'y'.repeat(4000), c: 'z'.repeat(4000), d: 'a'.repeat(4000), e: 'b'.repeat(4000), f: 'c'.repeat(4000), g: 'd'.repeat(4000), h: 'e'.repeat(4000), i: 'f'.repeat(1000) });
    expect(body.length).toBeGreaterThan(32 * 1024);
    const response = await request('$iothub/twin/PATCH/properties/reported/?$rid=6', body);
    expect(response.topic).toBe('$iothub/twin/res/413/?$rid=6');
    expect(device.isOpen).toBe(true);
  });
});

describe('desired properties', () => {
  it('pushes a service-side patch with its $version to the connected device', async () => {
    const twin = emulator.patchDesired('d1', { interval: 5, fw: { url: 'https://x' } });
    expect(twin.desired).toEqual({ interval: 5, fw: { url: 'https://x' }, $version: 2 });
    const push = await device.next('publish');
    expect(push.topic).toBe('$iothub/twin/PATCH/properties/desired/?$version=2');
    expect(JSON.parse(text(push))).toEqual({ interval: 5, fw: { url: 'https://x' }, $version: 2 });
  });

  it('does not queue desired patches for an offline device: the next GET shows them', async () => {
    await device.close();
    emulator.patchDesired('d1', { a: 1 });
    emulator.patchDesired('d1', { b: 2 });
    device = await connectDevice(emulator, 'd1');
    expect(await device.receives((p) => p.cmd === 'publish' && p.topic.startsWith('$iothub/twin/PATCH'), 200)).toBe(false);
    const response = await request('$iothub/twin/GET/?$rid=9', '');
    expect(JSON.parse(text(response)).desired).toEqual({ a: 1, b: 2, $version: 3 });
  });

  it('refuses an invalid desired patch from the service', () => {
    expect(() => emulator.patchDesired('d1', { 'a b': 1 })).toThrow(/space/);
    expect(() => emulator.patchDesired('nobody', { a: 1 })).toThrow(/does not exist/);
  });
});
