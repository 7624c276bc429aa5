// Exact bytes for each packet type, written out by hand from the MQTT 3.1.1 layouts, checked in both directions.

import { encodePacket, encodePublish, lengthFieldSize } from '../../src/mqtt/encode';
import { encodedPublishSize } from '../../src/mqtt/session';
import { utf8Length } from '../../src/encoding/utf8';
import type { Packet } from '../../src/mqtt/packets';
import { canonical, fromHex, hex } from './codec-helpers';
import { encodeBrokerPacket, decodeEitherPacket } from '../../src/mqtt/broker-codec';

const b = (...values: number[]) => new Uint8Array(values);

const VECTORS: [string, Packet, string][] = [
  ['CONNECT, clean session, keepalive 60', { type: 'connect', clientId: 'd1', cleanSession: true, keepAlive: 60 }, '10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 64 31'],
  [
    'CONNECT with will (QoS 1, retain), username and password',
    {
      type: 'connect',
      clientId: 'c',
      cleanSession: false,
      keepAlive: 300,
      will: { topic: 'w', payload: b(1, 2), qos: 1, retain: true },
      username: 'u',
      password: b(0x70),
    },
    // flags ec = username 80 | password 40 | will retain 20 | will QoS 1 08 | will 04
    '10 1a 00 04 4d 51 54 54 04 ec 01 2c 00 01 63 00 01 77 00 02 01 02 00 01 75 00 01 70',
  ],
  ['CONNECT with an empty username and empty password', { type: 'connect', clientId: 'x', cleanSession: true, keepAlive: 0, username: '', password: b() }, '10 11 00 04 4d 51 54 54 04 c2 00 00 00 01 78 00 00 00 00'],
  ['CONNACK accepted, session present', { type: 'connack', sessionPresent: true, returnCode: 0 }, '20 02 01 00'],
  ['CONNACK not authorized', { type: 'connack', sessionPresent: false, returnCode: 5 }, '20 02 00 05'],
  ['PUBLISH QoS 0 retain', { type: 'publish', topic: 'a/b', payload: b(0x68, 0x69), qos: 0, dup: false, retain: true }, '31 07 00 03 61 2f 62 68 69'],
  ['PUBLISH QoS 1 DUP, empty payload', { type: 'publish', topic: 't', payload: b(), qos: 1, dup: true, retain: false, packetId: 0x1234 }, '3a 05 00 01 74 12 34'],
  ['PUBLISH QoS 1 with a multibyte topic', { type: 'publish', topic: 'é😀', payload: b(0), qos: 1, dup: false, retain: false, packetId: 1 }, '32 0b 00 06 c3 a9 f0 9f 98 80 00 01 00'],
  ['PUBACK', { type: 'puback', packetId: 7 }, '40 02 00 07'],
  [
    'SUBSCRIBE with two filters',
    { type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: '+/b', qos: 0 }] },
    '82 0e 00 01 00 03 61 2f 23 01 00 03 2b 2f 62 00',
  ],
  ['SUBACK with a refusal', { type: 'suback', packetId: 1, granted: [0, 1, 0x80] }, '90 05 00 01 00 01 80'],
  ['UNSUBSCRIBE', { type: 'unsubscribe', packetId: 2, topics: ['a/#', 'x'] }, 'a2 0a 00 02 00 03 61 2f 23 00 01 78'],
  ['UNSUBACK', { type: 'unsuback', packetId: 0xfffe }, 'b0 02 ff fe'],
  ['PINGREQ', { type: 'pingreq' }, 'c0 00'],
  ['PINGRESP', { type: 'pingresp' }, 'd0 00'],
  ['DISCONNECT', { type: 'disconnect' }, 'e0 00'],
];

describe('encodePacket writes the exact bytes of each packet type', () => {
  test.each(VECTORS)('%s', (_name, packet, bytes) => {
    expect(hex(encodeBrokerPacket(packet))).toBe(hex(fromHex(bytes)));
  });
});

describe('decodePacket reads the exact bytes of each packet type', () => {
  test.each(VECTORS)('%s', (_name, packet, bytes) => {
    const result = decodeEitherPacket(fromHex(bytes));
    expect(result.ok && canonical(result.value)).toEqual(canonical(packet));
  });
});

describe('remaining length takes 1 to 4 bytes at the MQTT boundaries', () => {
  // Topic "t" and QoS 0: remaining length = 3 + payload length.
  test.each([
    [3, '03'],
    [127, '7f'],
    [128, '80 01'],
    [16_383, 'ff 7f'],
    [16_384, '80 80 01'],
    [2_097_151, 'ff ff 7f'],
    [2_097_152, '80 80 80 01'],
  ])('remaining length %i is %s', (remaining, field) => {
    const payload = new Uint8Array(remaining - 3);
    const bytes = encodePublish('t', payload, 0, false, false);
    const size = field.split(' ').length;
    expect(lengthFieldSize(remaining)).toBe(size);
    expect(hex(bytes.subarray(1, 1 + size))).toBe(field);
    expect(bytes.length).toBe(1 + size + remaining);
    expect(encodedPublishSize(utf8Length('t'), payload.length, 0)).toBe(bytes.length);
    const result = decodeEitherPacket(bytes);
    expect(result.ok && result.value.type === 'publish' && result.value.payload.length).toBe(payload.length);
  });
});

describe('encodePublish is the same packet as encodePacket', () => {
  test('QoS 1 with DUP and RETAIN', () => {
    const payload = b(1, 2, 3);
    expect(hex(encodePublish('x/y', payload, 1, true, true, 9))).toBe(
      hex(encodePacket({ type: 'publish', topic: 'x/y', payload, qos: 1, dup: true, retain: true, packetId: 9 })),
    );
    expect(hex(encodePublish('x/y', payload, 1, true, true, 9))).toBe('3b 0a 00 03 78 2f 79 00 09 01 02 03');
  });

  test('encodedPublishSize counts UTF-8 topic bytes and the packet id', () => {
    expect(encodedPublishSize(utf8Length('é'), 10, 1)).toBe(encodePublish('é', new Uint8Array(10), 1, false, false, 1).length);
    expect(encodedPublishSize(utf8Length('é'), 200, 0)).toBe(1 + 2 + 2 + 2 + 200);
  });
});

describe('decoded byte fields are views of the input, not copies', () => {
  test('PUBLISH payload shares the input buffer', () => {
    const bytes = fromHex('30 07 00 03 61 2f 62 68 69');
    const result = decodeEitherPacket(bytes);
    expect(result.ok).toBe(true);
    if (result.ok && result.value.type === 'publish') {
      expect(result.value.payload.buffer).toBe(bytes.buffer);
      expect(result.value.payload.byteOffset).toBe(7);
    }
  });
});
