// The stream parser: any chunking gives the same packets, limits are enforced from the header alone, and the
// first error poisons the stream until reset().

import type { DecodeResult } from '../../src/mqtt/decode';
import { encodePacket } from '../../src/mqtt/encode';
import type { Packet } from '../../src/mqtt/packets';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { DEFAULT_MAX_PACKET_SIZE, MqttStreamParser } from '../../src/mqtt/stream-parser';
import { canonical, fromHex, onePacketOfEachType } from './codec-helpers';
import { encodeBrokerPacket, decodeEitherPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

function packetsOf(results: DecodeResult[]): unknown[] {
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return canonical(r.value);
  });
}

function pushAll(parser: MqttStreamParser, chunks: Uint8Array[]): DecodeResult[] {
  return chunks.flatMap((c) => parser.push(c));
}

/** A remaining-length field for `value`, written independently of the encoder. */
function lengthField(value: number): number[] {
  const out: number[] = [];
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit |= 0x80;
    out.push(digit);
  } while (value > 0);
  return out;
}

const PACKETS = onePacketOfEachType();
const STREAM = concat(PACKETS.map(encodeBrokerPacket));
const EXPECTED = PACKETS.map(canonical);

describe('any split of the byte stream yields the same packets', () => {
  test('the whole stream in one chunk', () => {
    expect(packetsOf(new MqttStreamParser({ decodeBody: decodeEitherBody }).push(STREAM))).toEqual(EXPECTED);
  });

  test(`every split point of the ${STREAM.length}-byte stream`, () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
      const results = pushAll(parser, [STREAM.slice(0, i), STREAM.slice(i)]);
      expect([i, packetsOf(results)]).toEqual([i, EXPECTED]);
      expect(parser.bufferedBytes).toBe(0);
    }
  });

  test('every pair of split points over the first packets', () => {
    const part = concat(PACKETS.slice(0, 5).map(encodeBrokerPacket));
    const whole = packetsOf(new MqttStreamParser({ decodeBody: decodeEitherBody }).push(part));
    expect(whole).toEqual(EXPECTED.slice(0, 5));
    const expected = JSON.stringify(whole);
    const wrong: string[] = [];
    for (let i = 0; i <= part.length; i++) {
      for (let j = i; j <= part.length; j++) {
        const results = pushAll(new MqttStreamParser({ decodeBody: decodeEitherBody }), [part.slice(0, i), part.slice(i, j), part.slice(j)]);
        if (JSON.stringify(packetsOf(results)) !== expected) wrong.push(`${i}/${j}`);
      }
    }
    expect(part.length).toBeGreaterThan(150);
    expect(wrong).toEqual([]);
  });

  test('one byte at a time, including a 20,000-byte PUBLISH', () => {
    const big: Packet = { type: 'publish', topic: 'big', payload: new Uint8Array(20_000).map((_, i) => i), qos: 1, dup: false, retain: false, packetId: 3 };
    const stream = concat([STREAM, encodeBrokerPacket(big), STREAM]);
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    const results: DecodeResult[] = [];
    for (let i = 0; i < stream.length; i++) results.push(...parser.push(stream.subarray(i, i + 1)));
    expect(packetsOf(results)).toEqual([...EXPECTED, canonical(big), ...EXPECTED]);
  });

  test('empty chunks change nothing', () => {
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    expect(parser.push(new Uint8Array(0))).toEqual([]);
    expect(parser.push(STREAM.subarray(0, 3))).toEqual([]);
    expect(parser.push(new Uint8Array(0))).toEqual([]);
    expect(packetsOf(parser.push(STREAM.subarray(3)))).toEqual(EXPECTED);
  });

  test('the stream parser and decodePacket agree packet by packet', () => {
    for (const packet of PACKETS) {
      const bytes = encodeBrokerPacket(packet);
      const single = decodeEitherPacket(bytes);
      expect(packetsOf(new MqttStreamParser({ decodeBody: decodeEitherBody }).push(bytes))).toEqual(packetsOf([single]));
    }
  });
});

describe('bodies are not copied when they arrive whole', () => {
  test('a PUBLISH inside one chunk keeps a view of that chunk', () => {
    const chunk = concat([fromHex('c0 00'), encodePacket({ type: 'publish', topic: 't', payload: new Uint8Array([1, 2, 3]), qos: 0, dup: false, retain: false })]);
    const [ping, publish] = new MqttStreamParser({ decodeBody: decodeEitherBody }).push(chunk);
    expect(ping.ok && ping.value.type).toBe('pingreq');
    expect(publish.ok && publish.value.type === 'publish' && publish.value.payload.buffer).toBe(chunk.buffer);
  });

  test('a body split over chunks is joined once, when its last byte arrives', () => {
    const bytes = encodePacket({ type: 'publish', topic: 't', payload: new Uint8Array(1000).fill(7), qos: 0, dup: false, retain: false });
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    for (let at = 0; at < 900; at += 100) {
      expect(parser.push(bytes.subarray(at, at + 100))).toEqual([]);
      expect(parser.bufferedBytes).toBe(at + 100);
    }
    const [result] = parser.push(bytes.subarray(900));
    expect(result.ok && result.value.type === 'publish' && result.value.payload.every((v) => v === 7)).toBe(true);
    expect(parser.bufferedBytes).toBe(0);
  });
});

describe('the maximum packet size is checked on the remaining length, before the body', () => {
  test('the default is 256 KiB plus 1 KiB of headers', () => {
    expect(DEFAULT_MAX_PACKET_SIZE).toBe(263_168);
  });

  test('a 4-byte header claiming 200 MB is refused at once (a PUBLISH that long is skipped, not buffered)', () => {
    const header = new Uint8Array([0x90, ...lengthField(200_000_000)]);
    expect(header.length).toBe(5);
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    const results = parser.push(header);
    expect(results).toHaveLength(1);
    expect(!results[0].ok && results[0].error.code).toBe('packet-too-large');
    expect(parser.bufferedBytes).toBe(0);

    const publish = new MqttStreamParser({ decodeBody: decodeEitherBody });
    expect(publish.push(new Uint8Array([0x30, ...lengthField(200_000_000)]))).toEqual([]);
    expect(publish.isPoisoned).toBe(false);
    expect(publish.bufferedBytes).toBe(5);
  });

  test('a packet of exactly the limit passes, one byte more is refused', () => {
    const max = 300;
    const fits = encodePacket({ type: 'publish', topic: 't', payload: new Uint8Array(max - 6), qos: 0, dup: false, retain: false });
    expect(fits.length).toBe(max);
    expect(packetsOf(new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: max }).push(fits))).toHaveLength(1);

    const over = encodePacket({ type: 'publish', topic: 't', payload: new Uint8Array(max - 5), qos: 0, dup: false, retain: false });
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: max });
    expect(parser.push(over.subarray(0, 3))).toEqual([]);
    const results = parser.push(over.subarray(3));
    expect(results.map((r) => !r.ok && r.error.code)).toEqual(['packet-too-large']);

    const suback = new Uint8Array([0x90, ...lengthField(max - 2), 0, 1]);
    expect(new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: max }).push(suback.subarray(0, 4)).map((r) => !r.ok && r.error.code)).toEqual(['packet-too-large']);
  });

  test('a full 256 KiB IoT Hub message fits the default', () => {
    const topic = 'devices/device-0001/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8';
    const bytes = encodePacket({ type: 'publish', topic, payload: new Uint8Array(256 * 1024), qos: 1, dup: false, retain: false, packetId: 1 });
    expect(packetsOf(new MqttStreamParser({ decodeBody: decodeEitherBody }).push(bytes))).toHaveLength(1);
  });

  test('an invalid limit is refused', () => {
    expect(() => new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: 1 })).toThrow(MqttProtocolError);
    expect(() => new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize: 1.5 })).toThrow(MqttProtocolError);
  });
});

describe('a protocol error poisons the parser until reset()', () => {
  test('packets before the error come out, then the error, then nothing', () => {
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    const results = parser.push(concat([fromHex('d0 00 40 02 00 05'), fromHex('62 02 00 01'), fromHex('c0 00')]));
    expect(results.map((r) => (r.ok ? r.value.type : r.error.code))).toEqual(['pingresp', 'puback', 'qos2-unsupported']);
    expect(parser.isPoisoned).toBe(true);
    expect(parser.push(fromHex('c0 00'))).toEqual([]);
    expect(parser.push(STREAM)).toEqual([]);
  });

  test('an error found when the body completes poisons too', () => {
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    expect(parser.push(fromHex('30 03 00 01'))).toEqual([]);
    const results = parser.push(fromHex('2b c0 00'));
    expect(results.map((r) => (r.ok ? r.value.type : r.error.code))).toEqual(['invalid-topic']);
    expect(parser.push(fromHex('c0 00'))).toEqual([]);
  });

  test('reset() forgets the error and any partial packet', () => {
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    parser.push(fromHex('f0'));
    expect(parser.isPoisoned).toBe(true);
    parser.reset();
    expect(parser.isPoisoned).toBe(false);
    expect(packetsOf(parser.push(STREAM))).toEqual(EXPECTED);

    parser.push(STREAM.subarray(0, 5));
    expect(parser.bufferedBytes).toBe(5);
    parser.reset();
    expect(parser.bufferedBytes).toBe(0);
    expect(packetsOf(parser.push(STREAM))).toEqual(EXPECTED);
  });
});
