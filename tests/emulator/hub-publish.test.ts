// What a connected identity may publish and subscribe to, with the hub's exact answers:
// telemetry recorded with its property bag, forbidden topics and QoS 2 close the connection, SUBACK tells the truth.
import type { Emulator } from '../../emulator/src/emulator';
import type { RawMqttClient } from '../helpers/raw-mqtt';
import { KEY_B, addSasDevice, connectDevice, openRaw, sasFor, startTestEmulator, usernameFor } from './hub-fixture';

let emulator: Emulator;
let device: RawMqttClient;

beforeEach(async () => {
  emulator = await startTestEmulator();
  addSasDevice(emulator, 'd1');
  addSasDevice(emulator, 'd2');
  device = await connectDevice(emulator, 'd1');
});

afterEach(async () => {
  await device.close();
  await emulator.stop();
});

async function expectClosedFor(detail: RegExp): Promise<void> {
  const event = emulator.waitFor('connection', (e) => e.type === 'disconnected');
  await device.waitClosed();
  expect(await event).toEqual(expect.objectContaining({ reason: 'protocol-violation', detail: expect.stringMatching(detail) }));
}

describe('telemetry intake', () => {
  it('records body, system and application properties exactly, and PUBACKs QoS 1', async () => {
    const topic = 'devices/d1/messages/events/%24.mid=m-1&%24.cid=c-1&%24.ct=application%2Fjson&%24.ce=utf-8&temp%20unit=%C2%B0C&flag&empty=';
    const packetId = device.publish(topic, '{"t":21.5}', 1);
    expect(await device.next('puback')).toEqual(expect.objectContaining({ messageId: packetId }));
    const [message] = emulator.telemetry('d1');
    expect(message).toEqual({
      deviceId: 'd1',
      body: new Uint8Array(Buffer.from('{"t":21.5}')),
      properties: { 'temp unit': '°C', flag: null, empty: '' },
      systemProperties: { '$.mid': 'm-1', '$.cid': 'c-1', '$.ct': 'application/json', '$.ce': 'utf-8' },
      receivedAt: expect.any(String),
      qos: 1,
      topic,
    });
  });

  it('accepts the bare telemetry topic at QoS 0 and streams it to listeners', async () => {
    const seen = emulator.waitFor('telemetry');
    device.publish('devices/d1/messages/events/', 'x', 0);
    expect(await seen).toEqual(expect.objectContaining({ deviceId: 'd1', properties: {}, systemProperties: {}, qos: 0 }));
  });

  it('does not retain: a RETAIN publish is marked with mqtt-retain', async () => {
    device.publish('devices/d1/messages/events/a=1', 'x', 1, { retain: true });
    await device.next('puback');
    expect(emulator.telemetry('d1')[0].properties).toEqual({ a: '1', 'mqtt-retain': 'true' });
  });

  it('records a module message with its module id', async () => {
    emulator.addModule('d1', 'm1', { type: 'sas', primaryKey: KEY_B, secondaryKey: KEY_B });
    const module = await openRaw(emulator);
    await module.mqttConnect({ clientId: 'd1/m1', username: usernameFor(emulator, 'd1/m1'), password: sasFor(emulator, 'd1', { moduleId: 'm1', key: KEY_B }) });
    module.publish('devices/d1/modules/m1/messages/events/k=v', 'm', 1);
    await module.next('puback');
    expect(emulator.telemetry('d1')).toEqual([expect.objectContaining({ deviceId: 'd1', moduleId: 'm1', properties: { k: 'v' } })]);
    await module.close();
  });
});

describe('publish rules', () => {
  it('closes the connection on a QoS 2 PUBLISH, without PUBREC', async () => {
    device.publish('devices/d1/messages/events/', 'x', 2);
    await expectClosedFor(/QoS 2/);
    expect(device.received.filter((p) => p.cmd === 'pubrec')).toEqual([]);
    expect(emulator.telemetry()).toEqual([]);
  });

  it.each([
    ['another device telemetry topic', 'devices/d2/messages/events/'],
    ['a devicebound topic', 'devices/d1/messages/devicebound/x'],
    ['an arbitrary topic', 'hello/world'],
    ['a twin GET without $rid', '$iothub/twin/GET/'],
    ['a method reply without $rid', '$iothub/methods/res/200/?x=1'],
  ])('closes the connection on a PUBLISH to %s', async (_label, topic) => {
    device.publish(topic, 'x', 1);
    await expectClosedFor(/./);
    expect(device.received.filter((p) => p.cmd === 'puback')).toEqual([]);
  });

  it('closes the connection on a telemetry message over 256 KB', async () => {
    device.publish('devices/d1/messages/events/', Buffer.alloc(256 * 1024 + 1, 0x61), 1);
    await expectClosedFor(/over the 262144-byte limit/);
  });

  it('accepts a telemetry message of exactly 256 KB', async () => {
    device.publish('devices/d1/messages/events/', Buffer.alloc(256 * 1024, 0x61), 1);
    await device.next('puback');
    expect(emulator.telemetry('d1')[0].body.length).toBe(256 * 1024);
  });
});

describe('subscribe rules', () => {
  it('grants QoS 1 for a QoS 2 request and QoS 0 for QoS 0 on the allowed filters', async () => {
    const granted = await device.subscribe([
      { topic: 'devices/d1/messages/devicebound/#', qos: 2 },
      { topic: '$iothub/twin/res/#', qos: 0 },
      { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 1 },
      { topic: '$iothub/methods/POST/#', qos: 2 },
    ]);
    expect(granted).toEqual([1, 0, 1, 1]);
  });

  it('answers 0x80 for filters the identity may not use, and keeps the rest', async () => {
    const granted = await device.subscribe([
      { topic: 'devices/d2/messages/devicebound/#', qos: 1 },
      { topic: '$iothub/twin/res/#', qos: 1 },
      { topic: '#', qos: 0 },
      { topic: 'devices/d1/messages/events/#', qos: 1 },
    ]);
    expect(granted).toEqual([0x80, 1, 0x80, 0x80]);
    expect(device.isOpen).toBe(true);
  });

  it('refuses cloud-to-device messages to a module (0x80)', async () => {
    emulator.addModule('d1', 'm1', { type: 'sas', primaryKey: KEY_B, secondaryKey: KEY_B });
    const module = await openRaw(emulator);
    await module.mqttConnect({ clientId: 'd1/m1', username: usernameFor(emulator, 'd1/m1'), password: sasFor(emulator, 'd1', { moduleId: 'm1', key: KEY_B }) });
    expect(await module.subscribe([{ topic: 'devices/d1/messages/devicebound/#', qos: 1 }, { topic: '$iothub/methods/POST/#', qos: 0 }])).toEqual([0x80, 0]);
    await module.close();
  });

  it('keeps subscriptions across reconnects of a persistent session (sessionPresent)', async () => {
    await device.subscribe([{ topic: '$iothub/twin/res/#', qos: 0 }]);
    await device.close();
    await emulator.waitFor('connection', (e) => e.type === 'disconnected').catch(() => undefined);
    device = await openRaw(emulator);
    const connack = await device.mqttConnect({ clientId: 'd1', username: usernameFor(emulator, 'd1'), password: sasFor(emulator, 'd1'), clean: false });
    expect(connack.sessionPresent).toBe(true);
    device.publish('$iothub/twin/GET/?$rid=7', '', 0);
    expect((await device.next('publish')).topic).toBe('$iothub/twin/res/200/?$rid=7');
  });
});

describe('will messages', () => {
  it('records the will as telemetry when the device vanishes without DISCONNECT', async () => {
    const client = await openRaw(emulator);
    const will = { topic: 'devices/d2/messages/events/state=lost', payload: Buffer.from('gone'), qos: 1 as const, retain: false };
    expect((await client.mqttConnect({ clientId: 'd2', username: usernameFor(emulator, 'd2'), password: sasFor(emulator, 'd2'), will })).returnCode).toBe(0);
    const recorded = emulator.waitFor('telemetry', (m) => m.deviceId === 'd2');
    await client.close();
    expect(await recorded).toEqual(expect.objectContaining({ deviceId: 'd2', properties: { state: 'lost' }, body: new Uint8Array(Buffer.from('gone')) }));
  });

  it('refuses a will on any other topic with CONNACK 5', async () => {
    const client = await openRaw(emulator);
    const will = { topic: '$iothub/twin/GET/?$rid=1', payload: Buffer.from(''), qos: 0 as const, retain: false };
    expect((await client.mqttConnect({ clientId: 'd2', username: usernameFor(emulator, 'd2'), password: sasFor(emulator, 'd2'), will })).returnCode).toBe(5);
    await client.close();
  });
});
