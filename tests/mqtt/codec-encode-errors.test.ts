// Packets MQTT 3.1.1 (or our QoS 0/1 profile) forbids are refused by the encoder with a code and a field name.

import { encodePacket, encodePublish, MAX_REMAINING_LENGTH } from '../../src/mqtt/encode';
import type { Packet, PublishPacket } from '../../src/mqtt/packets';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import type { MqttProtocolErrorCode } from '../../src/mqtt/protocol-error';
import { encodeBrokerPacket } from '../../src/mqtt/broker-codec';

function refusal(packet: unknown): MqttProtocolError {
  try {
    encodeBrokerPacket(packet as Packet);
  } catch (error) {
    if (error instanceof MqttProtocolError) return error;
    throw error;
  }
  throw new Error('encodePacket accepted the packet');
}

function expectRefused(packet: unknown, code: MqttProtocolErrorCode, field: string): void {
  const error = refusal(packet);
  expect(error.code).toBe(code);
  expect(error.message).toContain(field);
}

const connect = { type: 'connect', clientId: 'd1', cleanSession: true, keepAlive: 60 } as const;
const publish: PublishPacket = { type: 'publish', topic: 't', payload: new Uint8Array(1), qos: 0, dup: false, retain: false };
const publish1: PublishPacket = { ...publish, qos: 1, packetId: 1 };

describe('strings longer than 65535 UTF-8 bytes', () => {
  test('topic of 65536 ASCII characters', () => {
    expectRefused({ ...publish, topic: 'a'.repeat(65_536) }, 'string-too-long', 'PUBLISH topic');
  });
  test('client id of 21846 euro signs (65538 bytes, 21846 UTF-16 units)', () => {
    expectRefused({ ...connect, clientId: '€'.repeat(21_846) }, 'string-too-long', 'CONNECT clientId');
  });
  test('a 65535-byte topic is still fine', () => {
    expect(encodeBrokerPacket({ ...publish, topic: 'a'.repeat(65_535) }).length).toBe(1 + 3 + 2 + 65_535 + 1);
  });
  test('password and will payload over 65535 bytes', () => {
    expectRefused({ ...connect, username: 'u', password: new Uint8Array(65_536) }, 'string-too-long', 'CONNECT password');
    const will = { topic: 'w', payload: new Uint8Array(65_536), qos: 0, retain: false };
    expectRefused({ ...connect, will }, 'string-too-long', 'CONNECT will payload');
  });
});

describe('packet identifiers', () => {
  test.each([
    ['0', 0],
    ['65536', 65_536],
    ['1.5', 1.5],
    ['missing', undefined],
  ])('%s is refused', (_what, packetId) => {
    expectRefused({ ...publish1, packetId }, 'invalid-packet-id', 'PUBLISH packetId');
    expectRefused({ type: 'puback', packetId }, 'invalid-packet-id', 'PUBACK packetId');
    expectRefused({ type: 'subscribe', packetId, subscriptions: [{ topic: 'a', qos: 0 }] }, 'invalid-packet-id', 'SUBSCRIBE packetId');
    expectRefused({ type: 'suback', packetId, granted: [0] }, 'invalid-packet-id', 'SUBACK packetId');
    expectRefused({ type: 'unsubscribe', packetId, topics: ['a'] }, 'invalid-packet-id', 'UNSUBSCRIBE packetId');
    expectRefused({ type: 'unsuback', packetId }, 'invalid-packet-id', 'UNSUBACK packetId');
  });
  test('a packet id on a QoS 0 PUBLISH is refused', () => {
    expectRefused({ ...publish, packetId: 5 }, 'invalid-packet-id', 'PUBLISH packetId');
  });
});

describe('keepalive range', () => {
  test.each([-1, 65_536, 1.5, Number.NaN])('%s is refused', (keepAlive) => {
    expectRefused({ ...connect, keepAlive }, 'invalid-field', 'CONNECT keepAlive');
  });
  test('0 and 65535 are accepted', () => {
    expect(() => encodeBrokerPacket({ ...connect, keepAlive: 0 })).not.toThrow();
    expect(() => encodeBrokerPacket({ ...connect, keepAlive: 65_535 })).not.toThrow();
  });
});

describe('CONNECT field combinations', () => {
  test('password without username', () => {
    const error = refusal({ ...connect, password: new Uint8Array([0x73, 0x65, 0x63, 0x72, 0x65, 0x74]) });
    expect(error.code).toBe('invalid-field');
    expect(error.message).toContain('CONNECT password');
    expect(error.message).not.toContain('secret');
  });
  test('empty client id with a persistent session', () => {
    expectRefused({ ...connect, clientId: '', cleanSession: false }, 'invalid-field', 'CONNECT clientId');
  });
  test('will topic with a wildcard', () => {
    expectRefused({ ...connect, will: { topic: 'a/#', payload: new Uint8Array(0), qos: 0, retain: false } }, 'invalid-topic', 'CONNECT will topic');
  });
});

describe('QoS', () => {
  test('QoS 2 is refused as unsupported everywhere a QoS appears', () => {
    expectRefused({ ...publish1, qos: 2 }, 'qos2-unsupported', 'PUBLISH QoS');
    expectRefused({ type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'a', qos: 2 }] }, 'qos2-unsupported', 'subscriptions[0].qos');
    expectRefused({ ...connect, will: { topic: 'w', payload: new Uint8Array(0), qos: 2, retain: false } }, 'qos2-unsupported', 'CONNECT will QoS');
  });
  test('QoS 3 and non-numbers are invalid', () => {
    expectRefused({ ...publish, qos: 3 }, 'invalid-qos', 'PUBLISH QoS');
    expectRefused({ ...publish, qos: '1' }, 'invalid-qos', 'PUBLISH QoS');
  });
  test('SUBACK codes other than 0, 1, 2 and 0x80', () => {
    expectRefused({ type: 'suback', packetId: 1, granted: [0, 3] }, 'invalid-qos', 'SUBACK granted[1]');
  });
  test('DUP on QoS 0', () => {
    expectRefused({ ...publish, dup: true }, 'invalid-field', 'PUBLISH dup');
  });
});

describe('subscription lists', () => {
  test('empty SUBSCRIBE, SUBACK and UNSUBSCRIBE lists', () => {
    expectRefused({ type: 'subscribe', packetId: 1, subscriptions: [] }, 'invalid-field', 'SUBSCRIBE subscriptions');
    expectRefused({ type: 'suback', packetId: 1, granted: [] }, 'invalid-field', 'SUBACK granted');
    expectRefused({ type: 'unsubscribe', packetId: 1, topics: [] }, 'invalid-field', 'UNSUBSCRIBE topics');
  });
  test('misplaced wildcards in filters', () => {
    expectRefused({ type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'a', qos: 0 }, { topic: 'a/#/b', qos: 0 }] }, 'invalid-topic', 'subscriptions[1].topic');
    expectRefused({ type: 'unsubscribe', packetId: 1, topics: ['a+'] }, 'invalid-topic', 'UNSUBSCRIBE topics[0]');
  });
});

describe('topics and strings', () => {
  test.each([
    ['a wildcard +', 'a/+', 'invalid-topic'],
    ['a wildcard #', '#', 'invalid-topic'],
    ['nothing', '', 'invalid-topic'],
    ['a lone surrogate', 'a\ud800b', 'invalid-utf8'],
    ['U+0000', 'a\u0000b', 'invalid-utf8'],
  ] as const)('PUBLISH topic holding %s', (_what, topic, code) => {
    expectRefused({ ...publish, topic }, code, 'PUBLISH topic');
    expect(() => encodePublish(topic, new Uint8Array(0), 0, false, false)).toThrow(MqttProtocolError);
  });
});

describe('remaining length over 268,435,455 bytes', () => {
  test('is refused before anything is allocated', () => {
    // A payload that claims to be larger than MQTT allows, without costing the memory.
    const payload = new Uint8Array(0);
    Object.defineProperty(payload, 'length', { value: MAX_REMAINING_LENGTH });
    expectRefused({ ...publish, payload }, 'packet-too-large', 'PUBLISH');
  });
});

describe('unknown packet types', () => {
  test('a type outside MQTT 3.1.1', () => {
    expect(refusal({ type: 'pubrel', packetId: 1 }).code).toBe('unknown-type');
  });
});
