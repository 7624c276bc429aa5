import { encodePacket } from '../../src/mqtt/encode';
import { InflightTable } from '../../src/mqtt/inflight';
import { AckOrder } from '../../src/mqtt/session-ack-order';
import { setPublishDup, setPublishPacketId } from '../../src/mqtt/session-publish-bytes';
import { MqttSession } from '../../src/mqtt/session';
import { ScriptedTransportFactory, VirtualClock, toHex } from '../../hosts/virtual';
import { received } from './session-fixture';

describe('PUBLISH byte patching', () => {
  it('sets the packet id and DUP exactly as encoding them would', () => {
    const payload = new Uint8Array(300).fill(7); // two-byte remaining length
    const base = { type: 'publish', topic: 'devices/d1/messages/events/', payload, qos: 1, retain: true } as const;
    const patched = encodePacket({ ...base, dup: false, packetId: 1 });
    setPublishPacketId(patched, 0xbeef);
    setPublishDup(patched);
    expect(toHex(patched)).toBe(toHex(encodePacket({ ...base, dup: true, packetId: 0xbeef })));
  });
});

describe('PUBACK ordering queue', () => {
  it('releases acks only from the head, in arrival order', () => {
    const acks = new AckOrder();
    const a = acks.expect(1);
    const b = acks.expect(2);
    const c = acks.expect(3);
    expect(acks.complete(c)).toEqual([]);
    expect(acks.complete(b)).toEqual([]);
    expect(acks.complete(a)).toEqual([1, 2, 3]);
    expect(acks.waiting).toBe(0);
    expect(acks.complete(a)).toEqual([]);
  });
});

describe('in-flight table', () => {
  it('keeps first-sent order through removals', () => {
    const table = new InflightTable();
    for (const id of [5, 1, 9]) table.add({ packetId: id, bytes: new Uint8Array(0), settle: undefined });
    expect(table.take(1)?.packetId).toBe(1);
    expect(table.take(1)).toBeUndefined();
    table.add({ packetId: 2, bytes: new Uint8Array(0), settle: undefined });
    expect(table.list().map((e) => e.packetId)).toEqual([5, 9, 2]);
    expect(table.removeWhere((e) => e.packetId === 9).map((e) => e.packetId)).toEqual([9]);
    expect(table.list().map((e) => e.packetId)).toEqual([5, 2]);
  });
});

describe('session options', () => {
  it.each([
    [{ maxInflight: 0 }, 'maxInflight must be an integer of at least 1'],
    [{ maxQueued: -1 }, 'maxQueued must be an integer of at least 0'],
    [{ pingTimeoutMs: 1.5 }, 'pingTimeoutMs must be an integer of at least 1'],
    [{ maxPacketSize: 1 }, 'maxPacketSize must be an integer of at least 2'],
  ])('refuses %j with a typed error', (options, message) => {
    const make = (): MqttSession => new MqttSession({ transport: new ScriptedTransportFactory(), timers: new VirtualClock() }, options);
    expect(make).toThrow(message);
    try {
      make();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('invalid-argument');
    }
  });

  it('logs through the logger port without credentials', async () => {
    const lines: string[] = [];
    const transport = new ScriptedTransportFactory();
    const session = new MqttSession({ transport, timers: new VirtualClock(), logger: { log: (level, m) => lines.push(`${level} ${m}`) } });
    const c = session.connect({
      tls: { host: 'h', port: 8883, trustedCAs: [] },
      clientId: 'dev1',
      cleanSession: false,
      keepAlive: 60,
      username: 'user',
      password: new Uint8Array([0x73, 0x65, 0x63, 0x72, 0x65, 0x74]),
    });
    transport.last.open();
    transport.last.push(new Uint8Array([0x20, 2, 0, 0]));
    await c;
    expect(lines).toContain('info mqtt: connected (session present: false)');
    expect(lines.join('\n')).not.toContain('secret');
  });

  it('sends an error nobody listens for to the log', async () => {
    const lines: string[] = [];
    const transport = new ScriptedTransportFactory();
    const session = new MqttSession({ transport, timers: new VirtualClock(), logger: { log: (level, m) => lines.push(`${level} ${m}`) } });
    void session.connect({ tls: { host: 'h', port: 8883, trustedCAs: [] }, clientId: 'd', cleanSession: true, keepAlive: 0 });
    transport.last.open();
    session.setMessageHandler(() => {
      throw new Error('boom');
    });
    transport.last.push(new Uint8Array([0x20, 2, 0, 0, 0x30, 4, 0, 1, 0x74, 0x78]));
    await received();
    expect(lines).toContain('warn mqtt: message handler failed on topic t: boom');
  });
});
