// Cloud-to-device messages: QoS 1 delivery with the property bag, queueing while offline, redelivery (DUP)
// until PUBACK, clean sessions, and the service-side limits.
import type { Emulator } from '../../emulator/src/emulator';
import type { AnyPacket, RawMqttClient } from '../helpers/raw-mqtt';
import { sasDeviceEachTest } from './hub-fixture';

const C2D_FILTER = 'devices/d1/messages/devicebound/#';
const bed = sasDeviceEachTest('d1');
let emulator: Emulator;
beforeEach(() => {
  emulator = bed.emulator;
});

function device(options: { clean?: boolean; subscribe?: boolean } = {}): Promise<RawMqttClient> {
  return bed.connect({ clean: options.clean, subscribe: options.subscribe === false ? [] : [C2D_FILTER] });
}

async function disconnect(client: RawMqttClient): Promise<void> {
  const gone = emulator.waitFor('connection', (e) => e.type === 'disconnected');
  await client.close();
  await gone;
}

function publishOf(packet: AnyPacket): { topic: string; body: string; qos: number; dup: boolean; messageId?: number } {
  if (packet.cmd !== 'publish') throw new Error(`expected a publish, got ${packet.cmd}`);
  return { topic: packet.topic, body: Buffer.from(packet.payload).toString(), qos: packet.qos, dup: packet.dup ?? false, messageId: packet.messageId };
}

describe('delivery', () => {
  it('delivers at QoS 1 with system and application properties URL-encoded in the topic', async () => {
    const client = await device();
    const id = emulator.sendC2D('d1', 'hello', { 'cmd name': 'reboot/now', n: '1' }, { messageId: 'mid-1', correlationId: 'c/1', contentType: 'application/json' });
    expect(id).toBe('mid-1');
    const message = publishOf(await client.next('publish'));
    expect(message).toEqual({
      topic: 'devices/d1/messages/devicebound/%24.mid=mid-1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&%24.cid=c%2F1&%24.ct=application%2Fjson&cmd%20name=reboot%2Fnow&n=1',
      body: 'hello',
      qos: 1,
      dup: false,
      messageId: expect.any(Number),
    });
  });

  it('completes the message on PUBACK and reports it', async () => {
    const client = await device();
    const completed = emulator.waitFor('c2d');
    emulator.sendC2D('d1', 'x', {}, { messageId: 'm1' });
    const { messageId } = publishOf(await client.next('publish'));
    client.send({ cmd: 'puback', messageId });
    expect(await completed).toEqual({ deviceId: 'd1', messageId: 'm1', outcome: 'completed' });
  });

  it('waits for the subscription before delivering', async () => {
    const client = await device({ subscribe: false });
    emulator.sendC2D('d1', 'later');
    expect(await client.receives('publish', 200)).toBe(false);
    await client.subscribe([{ topic: C2D_FILTER, qos: 1 }]);
    expect(publishOf(await client.next('publish')).body).toBe('later');
  });
});

describe('persistent session (clean session 0)', () => {
  it('queues messages while offline and delivers them in order on reconnect', async () => {
    await disconnect(await device());
    emulator.sendC2D('d1', 'one');
    emulator.sendC2D('d1', 'two');
    const client = await device();
    const bodies = [publishOf(await client.next('publish')).body, publishOf(await client.next('publish')).body];
    expect(bodies).toEqual(['one', 'two']);
  });

  it('redelivers an unacknowledged message with DUP and the same packet id after a reconnect', async () => {
    const first = await device();
    emulator.sendC2D('d1', 'again', {}, { messageId: 'm-again' });
    const original = publishOf(await first.next('publish'));
    await disconnect(first);
    const second = await device();
    const redelivered = publishOf(await second.next('publish'));
    expect(redelivered).toEqual({ ...original, dup: true });
    second.send({ cmd: 'puback', messageId: redelivered.messageId });
    await emulator.waitFor('c2d', (e) => e.messageId === 'm-again' && e.outcome === 'completed');
    await disconnect(second);
    const third = await device();
    expect(await third.receives('publish', 200)).toBe(false);
  });
});

describe('clean session (clean session 1)', () => {
  it('discards queued messages when the device connects with a clean session', async () => {
    await disconnect(await device());
    emulator.sendC2D('d1', 'lost', {}, { messageId: 'm-lost' });
    const discarded = emulator.waitFor('c2d');
    const client = await device({ clean: true });
    expect(await discarded).toEqual({ deviceId: 'd1', messageId: 'm-lost', outcome: 'discarded-clean-session' });
    expect(await client.receives('publish', 200)).toBe(false);
  });
});

describe('service-side limits', () => {
  it('refuses a message over 64 KB', () => {
    expect(() => emulator.sendC2D('d1', Buffer.alloc(64 * 1024))).toThrow(/limit is 65536/);
  });

  it('refuses an unknown device and a reserved property name', () => {
    expect(() => emulator.sendC2D('nobody', 'x')).toThrow(/does not exist/);
    expect(() => emulator.sendC2D('d1', 'x', { $x: '1' })).toThrow(/reserved/);
  });

  it('refuses a 51st queued message', () => {
    for (let i = 0; i < 50; i++) emulator.sendC2D('d1', `m${i}`);
    expect(() => emulator.sendC2D('d1', 'one too many')).toThrow(/already has 50/);
  });
});
