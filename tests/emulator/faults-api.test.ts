// The programmatic fault API, each fault observed from the device side with a raw MQTT client.
import mqtt from 'mqtt-packet';
import type { Emulator } from '../../emulator/src/emulator';
import type { RawMqttClient } from '../helpers/raw-mqtt';
import { sasDeviceEachTest } from './hub-fixture';

const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
beforeEach(() => {
  emulator = bed.emulator;
});

const device = (subscribe: string[] = []): Promise<RawMqttClient> => bed.connect({ subscribe });
const connackCode = bed.connackCode;

function telemetry(client: RawMqttClient): number {
  return client.publish('devices/d1/messages/events/', 'x', 1)!;
}

describe('dropping connections', () => {
  it('drops the connection now, reported as a fault', async () => {
    const client = await device();
    const event = emulator.waitFor('connection', (e) => e.type === 'disconnected');
    expect(emulator.faults.dropConnection('d1')).toBe(1);
    await client.waitClosed();
    expect(await event).toEqual(expect.objectContaining({ reason: 'fault' }));
  });

  it('drops the connection after exactly N more bytes', async () => {
    const client = await device();
    const before = Buffer.concat(client.receivedBytes).length;
    emulator.faults.dropAfterBytes('d1', 3);
    telemetry(client); // PUBACK is 4 bytes: only 3 of them arrive
    await client.waitClosed();
    expect(Buffer.concat(client.receivedBytes).length - before).toBe(3);
    expect(client.received.filter((p) => p.cmd === 'puback')).toEqual([]);
  });

  it('writes half of the next packet, then drops the connection', async () => {
    const client = await device(['devices/d1/messages/devicebound/#']);
    const before = Buffer.concat(client.receivedBytes).length;
    emulator.faults.dropMidPacket('d1');
    emulator.sendC2D('d1', 'x'.repeat(100), {}, { messageId: 'half' });
    await client.waitClosed();
    const got = Buffer.concat(client.receivedBytes).subarray(before);
    const whole = mqtt.generate({ cmd: 'publish', topic: 'devices/d1/messages/devicebound/%24.mid=half&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound', payload: Buffer.from('x'.repeat(100)), qos: 1, messageId: 1, dup: false, retain: false });
    expect(got.length).toBe(Math.floor(whole.length / 2));
    expect(got).toEqual(whole.subarray(0, got.length));
    expect(client.received.filter((p) => p.cmd === 'publish')).toEqual([]);
  });

  it('arms a byte fault for the next connection when the device is offline', async () => {
    emulator.faults.dropMidPacket('d1');
    const client = await device();
    const done = telemetry(client);
    await client.waitClosed();
    expect(client.received.find((p) => p.cmd === 'puback' && p.messageId === done)).toBeUndefined();
  });
});

describe('withheld PUBACKs', () => {
  it('withholds the next N PUBACKs, then acknowledges again', async () => {
    const client = await device();
    emulator.faults.withholdPubacks('d1', { count: 2 });
    const ids = [telemetry(client), telemetry(client), telemetry(client)];
    const ack = await client.next('puback');
    expect(ack.messageId).toBe(ids[2]);
    expect(await client.receives('puback', 200)).toBe(false);
    expect(emulator.telemetry('d1')).toHaveLength(3);
  });

  it('withholds PUBACKs for a duration', async () => {
    const client = await device();
    emulator.faults.withholdPubacks('d1', { durationMs: 300 });
    telemetry(client);
    expect(await client.receives('puback', 200)).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    const id = telemetry(client);
    expect((await client.next('puback')).messageId).toBe(id);
  });
});

describe('twin and method responses', () => {
  it('answers twin requests with a given status (429) for N requests', async () => {
    const client = await device(['$iothub/twin/res/#']);
    emulator.faults.twinResponses('d1', { status: 429 }, { count: 1 });
    client.publish('$iothub/twin/PATCH/properties/reported/?$rid=1', '{"a":1}', 0);
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/429/?$rid=1');
    expect(emulator.getTwin('d1').reported).toEqual({ $version: 1 });
    client.publish('$iothub/twin/GET/?$rid=2', '', 0);
    expect((await client.next('publish')).topic).toBe('$iothub/twin/res/200/?$rid=2');
  });

  it('delays a twin response', async () => {
    const client = await device(['$iothub/twin/res/#']);
    emulator.faults.twinResponses('d1', { delayMs: 300 }, { count: 1 });
    const started = Date.now();
    client.publish('$iothub/twin/GET/?$rid=3', '', 0);
    await client.next('publish');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops a twin response', async () => {
    const client = await device(['$iothub/twin/res/#']);
    emulator.faults.twinResponses('d1', { drop: true }, { count: 1 });
    client.publish('$iothub/twin/GET/?$rid=4', '', 0);
    expect(await client.receives('publish', 300)).toBe(false);
  });

  it('drops a method reply (the caller gets 504) and delays one past the timeout', async () => {
    const client = await device(['$iothub/methods/POST/#']);
    const answer = async (): Promise<void> => {
      const request = await client.next('publish');
      const rid = /\$rid=(\w+)/.exec((request as { topic: string }).topic)![1];
      client.publish(`$iothub/methods/res/200/?$rid=${rid}`, '{}', 0);
    };
    emulator.faults.methodResponses('d1', { drop: true }, { count: 1 });
    const dropped = emulator.invokeMethod('d1', 'm', null, { timeoutMs: 300 });
    await answer();
    expect((await dropped).status).toBe(504);
    emulator.faults.methodResponses('d1', { delayMs: 400 }, { count: 1 });
    const delayed = emulator.invokeMethod('d1', 'm', null, { timeoutMs: 200 });
    await answer();
    expect((await delayed).status).toBe(504);
    const fine = emulator.invokeMethod('d1', 'm', null, { timeoutMs: 1000 });
    await answer();
    expect((await fine).status).toBe(200);
  });
});

describe('refused CONNECT', () => {
  it('refuses with the given code N times', async () => {
    emulator.faults.refuseConnect('d1', 3, { count: 2 });
    expect(await connackCode()).toBe(3);
    expect(await connackCode()).toBe(3);
    expect(await connackCode()).toBe(0);
  });

  it('refuses for a while', async () => {
    emulator.faults.refuseConnect('*', 5, { durationMs: 200 });
    expect(await connackCode()).toBe(5);
    await new Promise((r) => setTimeout(r, 250));
    expect(await connackCode()).toBe(0);
  });
});

describe('latency', () => {
  it('adds latency to packets in both directions', async () => {
    const client = await device();
    emulator.faults.latency('d1', { inboundMs: 150, outboundMs: 150 });
    const started = Date.now();
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    emulator.faults.latency('d1', undefined);
    const again = Date.now();
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(Date.now() - again).toBeLessThan(150);
  });
});

describe('clearing', () => {
  it('clear() removes every rule', async () => {
    const client = await device();
    emulator.faults.withholdPubacks('*');
    emulator.faults.clear();
    const id = telemetry(client);
    expect((await client.next('puback')).messageId).toBe(id);
  });
});
