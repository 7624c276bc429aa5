// An incoming PUBLISH over the receive limit is refused at its remaining-length field and skipped while it
// streams: its payload is counted down, never kept, the stream stays usable, and the session reports it
// ('oversized': topic and size, never payload), PUBACKs it at QoS 1 in arrival order and delivers the next packet.

import { encodePacket } from '../../src/mqtt/encode';
import { MqttStreamParser, type StreamResult } from '../../src/mqtt/stream-parser';
import type { OversizedPublish } from '../../src/mqtt/session-types';
import { connectFx, received, setup } from './session-fixture';

const LIMIT = 16 * 1024;
const BIG = 1024 * 1024;
const TOPIC = 'devices/dev1/messages/devicebound/%24.mid=m1';

/** The header of a QoS 1 PUBLISH whose payload is `payloadBytes` long (the payload itself is not built). */
function publishHeader(topic: string, payloadBytes: number, packetId: number): Uint8Array {
  const name = new TextEncoder().encode(topic);
  const variable = [name.length >> 8, name.length & 0xff, ...name, packetId >> 8, packetId & 0xff];
  const length: number[] = [];
  let value = variable.length + payloadBytes;
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit |= 0x80;
    length.push(digit);
  } while (value > 0);
  return new Uint8Array([0x32, ...length, ...variable]);
}

/** Feeds the header, then `payloadBytes` of payload as the same 4 KiB chunk again and again (nothing big is built). */
function feed(push: (chunk: Uint8Array) => void, header: Uint8Array, payloadBytes: number): void {
  push(header);
  const chunk = new Uint8Array(4096).fill(0x5a);
  for (let left = payloadBytes; left > 0; left -= chunk.length) push(left >= chunk.length ? chunk : chunk.subarray(0, left));
}

describe('an oversized incoming PUBLISH is skipped without allocating its body', () => {
  test('a 1 MB PUBLISH through a 16 KB parser: only its header is held, then it comes out as skipped and the next packet decodes', () => {
    const parser = new MqttStreamParser({ maxPacketSize: LIMIT });
    const header = publishHeader(TOPIC, BIG, 7);
    const results: StreamResult[] = [];
    let mostHeld = 0;
    const before = process.memoryUsage().arrayBuffers;
    feed(
      (chunk) => {
        results.push(...parser.push(chunk));
        mostHeld = Math.max(mostHeld, parser.bufferedBytes);
      },
      header,
      BIG,
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    // The fixed header (5 bytes) and the topic with its length prefix: nothing of the payload.
    expect(mostHeld).toBe(1 + 3 + 2 + TOPIC.length);
    expect(grown).toBeLessThan(256 * 1024);
    expect(results).toHaveLength(1);
    const [skipped] = results;
    expect(skipped !== undefined && !skipped.ok && skipped.error.code).toBe('packet-too-large');
    expect(skipped && 'skipped' in skipped && skipped.skipped).toEqual({
      topic: TOPIC,
      qos: 1,
      packetId: 7,
      dup: false,
      retain: false,
      size: header.length + BIG,
    });
    expect(parser.isPoisoned).toBe(false);
    expect(parser.bufferedBytes).toBe(0);

    const next = parser.push(new Uint8Array([0xd0, 0x00]));
    expect(next.map((r) => (r.ok ? r.value.type : r.error.code))).toEqual(['pingresp']);
  });

  test('a topic longer than the limit is counted down too: the skip names no topic but keeps the packet id', () => {
    const parser = new MqttStreamParser({ maxPacketSize: 1024 });
    const topic = 't/'.padEnd(2000, 'x');
    const results: StreamResult[] = [];
    let mostHeld = 0;
    feed(
      (chunk) => {
        results.push(...parser.push(chunk));
        mostHeld = Math.max(mostHeld, parser.bufferedBytes);
      },
      publishHeader(topic, 5000, 9),
      5000,
    );
    expect(mostHeld).toBeLessThanOrEqual(1024);
    expect(results.map((r) => 'skipped' in r && [r.skipped.topic, r.skipped.packetId])).toEqual([[undefined, 9]]);
    expect(parser.isPoisoned).toBe(false);
  });

  test('any other packet over the limit is still a protocol error that poisons the stream', () => {
    const parser = new MqttStreamParser({ maxPacketSize: LIMIT });
    const results = parser.push(new Uint8Array([0x90, 0x80, 0x80, 0x01])); // SUBACK claiming 16,384 bytes
    expect(results.map((r) => !r.ok && r.error.code)).toEqual(['packet-too-large']);
    expect(results.some((r) => 'skipped' in r)).toBe(false);
    expect(parser.isPoisoned).toBe(true);
  });

  test('a skipped PUBLISH that breaks the rules still poisons (topic past the end of the packet, packet id 0)', () => {
    const pastEnd = new MqttStreamParser({ maxPacketSize: 64 });
    // QoS 0 PUBLISH of 100 bytes whose topic claims 200.
    const bad = pastEnd.push(new Uint8Array([0x30, 100, 0, 200]));
    expect(bad.map((r) => !r.ok && r.error.code)).toEqual(['truncated']);
    expect(pastEnd.isPoisoned).toBe(true);

    const zeroId = new MqttStreamParser({ maxPacketSize: 64 });
    const out: StreamResult[] = [];
    feed((chunk) => out.push(...zeroId.push(chunk)), publishHeader('a/b', 100, 0), 100);
    expect(out.map((r) => !r.ok && r.error.code)).toEqual(['invalid-packet-id']);
  });

  test('the session reports it, PUBACKs it, stays connected and delivers the next packet', async () => {
    const fx = setup({ maxPacketSize: LIMIT });
    await connectFx(fx);
    const oversized: OversizedPublish[] = [];
    fx.session.on('oversized', (event) => oversized.push(event));
    const delivered: string[] = [];
    fx.session.setMessageHandler((m) => {
      delivered.push(`${m.topic}:${m.packetId}`);
    });
    const header = publishHeader(TOPIC, BIG, 7);
    feed((chunk) => fx.link.push(chunk), header, BIG);
    fx.link.push(encodePacket({ type: 'publish', topic: 'next', payload: new Uint8Array([1]), qos: 1, dup: false, retain: false, packetId: 8 }));
    await received();

    expect(oversized).toEqual([{ topic: TOPIC, qos: 1, packetId: 7, size: header.length + BIG, limit: LIMIT }]);
    expect(delivered).toEqual(['next:8']);
    expect(fx.link.takeHex()).toEqual(['40020007', '40020008']);
    expect(fx.session.state).toBe('connected');
    expect(fx.closes).toEqual([]);
  });

  test('a QoS 0 PUBLISH over the limit is reported and not acknowledged', async () => {
    const fx = setup({ maxPacketSize: 1024 });
    await connectFx(fx);
    const oversized: OversizedPublish[] = [];
    fx.session.on('oversized', (event) => oversized.push(event));
    fx.link.push(encodePacket({ type: 'publish', topic: 'a/b', payload: new Uint8Array(2000), qos: 0, dup: false, retain: false }));
    await received();
    expect(oversized).toEqual([{ topic: 'a/b', qos: 0, size: 2008, limit: 1024 }]);
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.session.state).toBe('connected');
  });
});
