// Packets to bytes. Every encoder measures first and then writes into one exactly sized array: telemetry goes
// through here on every send, and on a microcontroller heap every temporary buffer costs.
// Anything MQTT 3.1.1 (or our QoS 0/1 profile) would reject throws MqttProtocolError naming the field.
// This is the device's side: it writes what a client sends. What only a broker sends (CONNACK, SUBACK, UNSUBACK,
// PINGRESP) is written by broker-codec.ts, which only tests, soak and benchmarks import.

import { isWellFormedUtf16, utf8Length, utf8Write } from '../encoding/utf8';
import type { ClientPacket, ConnectPacket, QoS, SubscribePacket, Subscription, UnsubscribePacket } from './packets';
import { MqttProtocolError } from './protocol-error';
import { topicFilterProblem, topicNameProblem } from './topic-rules';

/** The largest remaining length the 4-byte variable-length field can express. */
export const MAX_REMAINING_LENGTH = 268_435_455;

const MAX_U16 = 0xffff;
const PLUS = 0x2b;
const HASH = 0x23;
const PROTOCOL_LEVEL = 4;

export function encodePacket(packet: ClientPacket): Uint8Array {
  switch (packet.type) {
    case 'connect':
      return encodeConnect(packet);
    case 'publish':
      return encodePublish(packet.topic, packet.payload, packet.qos, packet.dup, packet.retain, packet.packetId);
    case 'puback':
      return encodeIdOnly(0x40, packet.packetId, 'PUBACK');
    case 'subscribe':
      return encodeSubscribe(packet);
    case 'unsubscribe':
      return encodeUnsubscribe(packet);
    case 'pingreq':
      return new Uint8Array([0xc0, 0]);
    case 'disconnect':
      return new Uint8Array([0xe0, 0]);
    default:
      throw new MqttProtocolError('unknown-type', 'packet type is not one a client sends in MQTT 3.1.1');
  }
}

/**
 * The PUBLISH encoder without a packet object: the session's encodePublish() (every telemetry message) calls it
 * directly. `packetId` is required for QoS 1 and must be absent for QoS 0.
 */
export function encodePublish(
  topic: string,
  payload: Uint8Array,
  qos: QoS,
  dup: boolean,
  retain: boolean,
  packetId?: number,
): Uint8Array {
  return encodePlainPublish(topic, payload, qos, dup, retain, packetId) ?? encodeCheckedPublish(topic, payload, qos, dup, retain, packetId);
}

/**
 * The common case with one pass over the topic: a topic of plain ASCII (no U+0000, no wildcard) is valid as it
 * stands, so it is checked while it is copied, instead of being measured, scanned and then written. Any other
 * topic gives undefined and the checked path, which reports errors in their usual order.
 */
function encodePlainPublish(topic: string, payload: Uint8Array, qos: QoS, dup: boolean, retain: boolean, packetId: number | undefined): Uint8Array | undefined {
  if (typeof topic !== 'string' || !(payload instanceof Uint8Array)) return undefined;
  const n = topic.length;
  if (n === 0 || n > MAX_U16) return undefined;
  const remaining = 2 + n + (qos === 1 ? 2 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) return undefined;
  const bytes = new Uint8Array(1 + lengthFieldSize(remaining) + remaining);
  let at = writeU16(bytes, writeHeader(bytes, 0x30, remaining), n);
  for (let i = 0; i < n; i++) {
    const unit = topic.charCodeAt(i);
    if (unit === 0 || unit >= 0x80 || unit === PLUS || unit === HASH) return undefined;
    bytes[at++] = unit;
  }
  const level = checkPublishQos(qos, dup, packetId);
  bytes[0] = 0x30 | (dup ? 0x08 : 0) | (level << 1) | (retain ? 0x01 : 0);
  if (level === 1) at = writeU16(bytes, at, packetId as number);
  bytes.set(payload, at);
  return bytes;
}

function checkPublishQos(qos: QoS, dup: boolean, packetId: number | undefined): QoS {
  const level = checkQos(qos, 'PUBLISH QoS');
  if (level === 1) {
    checkPacketId(packetId, 'PUBLISH');
  } else {
    if (packetId !== undefined) {
      throw new MqttProtocolError('invalid-packet-id', 'PUBLISH packetId must be absent for QoS 0');
    }
    if (dup) throw new MqttProtocolError('invalid-field', 'PUBLISH dup must be false for QoS 0');
  }
  return level;
}

function encodeCheckedPublish(topic: string, payload: Uint8Array, qos: QoS, dup: boolean, retain: boolean, packetId: number | undefined): Uint8Array {
  const topicLength = topicNameLength(topic, 'PUBLISH topic');
  const level = checkPublishQos(qos, dup, packetId);
  if (!(payload instanceof Uint8Array)) {
    throw new MqttProtocolError('invalid-field', 'PUBLISH payload must be a Uint8Array');
  }
  const remaining = 2 + topicLength + (level === 1 ? 2 : 0) + payload.length;
  const bytes = allocate(remaining, 'PUBLISH');
  let at = writeHeader(bytes, 0x30 | (dup ? 0x08 : 0) | (level << 1) | (retain ? 0x01 : 0), remaining);
  at = writeString(bytes, at, topic, topicLength);
  if (level === 1) at = writeU16(bytes, at, packetId as number);
  bytes.set(payload, at);
  return bytes;
}

/** Bytes the remaining-length field takes for `remaining` (1..4); callers check the maximum. */
export function lengthFieldSize(remaining: number): number {
  if (remaining < 0x80) return 1;
  if (remaining < 0x4000) return 2;
  if (remaining < 0x200000) return 3;
  return 4;
}

function encodeConnect(packet: ConnectPacket): Uint8Array {
  const clientIdLength = stringLength(packet.clientId, 'CONNECT clientId');
  // MQTT 3.1.1 section 3.1.3.1: a server gives a session only to a named client.
  if (clientIdLength === 0 && !packet.cleanSession) {
    throw new MqttProtocolError('invalid-field', 'CONNECT clientId must not be empty when cleanSession is false');
  }
  if (!Number.isInteger(packet.keepAlive) || packet.keepAlive < 0 || packet.keepAlive > MAX_U16) {
    throw new MqttProtocolError('invalid-field', 'CONNECT keepAlive must be an integer from 0 to 65535 seconds');
  }
  // Protocol name (2 + 4), level, flags, keepalive, then the client id.
  let remaining = 10 + 2 + clientIdLength;
  let flags = packet.cleanSession ? 0x02 : 0;

  const will = packet.will;
  let willTopicLength = 0;
  if (will !== undefined) {
    willTopicLength = topicNameLength(will.topic, 'CONNECT will topic');
    const qos = checkQos(will.qos, 'CONNECT will QoS');
    binaryLength(will.payload, 'CONNECT will payload');
    remaining += 2 + willTopicLength + 2 + will.payload.length;
    flags |= 0x04 | (qos << 3) | (will.retain ? 0x20 : 0);
  }

  let usernameLength = 0;
  if (packet.username !== undefined) {
    usernameLength = stringLength(packet.username, 'CONNECT username');
    remaining += 2 + usernameLength;
    flags |= 0x80;
  }
  if (packet.password !== undefined) {
    // MQTT 3.1.1 section 3.1.2.9: a password flag without the user name flag is a protocol violation.
    if (packet.username === undefined) {
      throw new MqttProtocolError('invalid-field', 'CONNECT password requires a username');
    }
    remaining += 2 + binaryLength(packet.password, 'CONNECT password');
    flags |= 0x40;
  }

  const bytes = allocate(remaining, 'CONNECT');
  let at = writeHeader(bytes, 0x10, remaining);
  // "MQTT" as a length-prefixed string.
  bytes.set([0, 4, 0x4d, 0x51, 0x54, 0x54, PROTOCOL_LEVEL, flags], at);
  at += 8;
  at = writeU16(bytes, at, packet.keepAlive);
  at = writeString(bytes, at, packet.clientId, clientIdLength);
  if (will !== undefined) {
    at = writeString(bytes, at, will.topic, willTopicLength);
    at = writeBinary(bytes, at, will.payload);
  }
  if (packet.username !== undefined) at = writeString(bytes, at, packet.username, usernameLength);
  if (packet.password !== undefined) writeBinary(bytes, at, packet.password);
  return bytes;
}

export function encodeIdOnly(firstByte: number, packetId: number, name: string): Uint8Array {
  checkPacketId(packetId, name);
  return new Uint8Array([firstByte, 2, packetId >> 8, packetId & 0xff]);
}

function encodeSubscribe(packet: SubscribePacket): Uint8Array {
  const subscriptions = packet.subscriptions;
  const topics = Array.isArray(subscriptions) ? subscriptions.map((s) => s.topic) : subscriptions;
  return encodeFilters(0x82, 'SUBSCRIBE', packet.packetId, 'subscriptions', topics, subscriptions);
}

function encodeUnsubscribe(packet: UnsubscribePacket): Uint8Array {
  return encodeFilters(0xa2, 'UNSUBSCRIBE', packet.packetId, 'topics', packet.topics, undefined);
}

/**
 * SUBSCRIBE and UNSUBSCRIBE: the packet id, then each topic filter, followed by its requested QoS when
 * `subscriptions` is given. `list` names the packet field in errors.
 */
function encodeFilters(
  firstByte: number,
  name: string,
  packetId: number,
  list: string,
  filters: readonly string[],
  subscriptions: readonly Subscription[] | undefined,
): Uint8Array {
  checkPacketId(packetId, name);
  if (!Array.isArray(filters) || filters.length === 0) {
    throw new MqttProtocolError('invalid-field', `${name} ${list} must hold at least one filter`);
  }
  const lengths: number[] = [];
  let remaining = 2;
  for (let i = 0; i < filters.length; i++) {
    const field = subscriptions === undefined ? `${name} ${list}[${i}]` : `${name} ${list}[${i}].topic`;
    lengths.push(topicFilterLength(filters[i], field));
    if (subscriptions !== undefined) checkQos(subscriptions[i].qos, `${name} ${list}[${i}].qos`);
    remaining += 2 + lengths[i] + (subscriptions === undefined ? 0 : 1);
  }
  const bytes = allocate(remaining, name);
  let at = writeU16(bytes, writeHeader(bytes, firstByte, remaining), packetId);
  for (let i = 0; i < filters.length; i++) {
    at = writeString(bytes, at, filters[i], lengths[i]);
    if (subscriptions !== undefined) bytes[at++] = subscriptions[i].qos;
  }
  return bytes;
}

export function allocate(remaining: number, name: string): Uint8Array {
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new MqttProtocolError('packet-too-large', `${name} would exceed MQTT's 268,435,455-byte remaining length`);
  }
  return new Uint8Array(1 + lengthFieldSize(remaining) + remaining);
}

export function writeHeader(bytes: Uint8Array, firstByte: number, remaining: number): number {
  bytes[0] = firstByte;
  let at = 1;
  let value = remaining;
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit |= 0x80;
    bytes[at++] = digit;
  } while (value > 0);
  return at;
}

export function writeU16(bytes: Uint8Array, at: number, value: number): number {
  bytes[at] = value >> 8;
  bytes[at + 1] = value & 0xff;
  return at + 2;
}

function writeString(bytes: Uint8Array, at: number, value: string, byteLength: number): number {
  return utf8Write(value, bytes, writeU16(bytes, at, byteLength));
}

function writeBinary(bytes: Uint8Array, at: number, value: Uint8Array): number {
  const start = writeU16(bytes, at, value.length);
  bytes.set(value, start);
  return start + value.length;
}

function stringLength(value: string, field: string): number {
  if (typeof value !== 'string') throw new MqttProtocolError('invalid-field', `${field} must be a string`);
  // Topics, ids and user names are almost always ASCII: one pass settles length, surrogates and U+0000 at once.
  const ascii = asciiLength(value);
  if (ascii >= 0) {
    if (ascii > MAX_U16) {
      throw new MqttProtocolError('string-too-long', `${field} is ${ascii} bytes in UTF-8; MQTT allows 65535`);
    }
    return ascii;
  }
  if (!isWellFormedUtf16(value)) {
    throw new MqttProtocolError('invalid-utf8', `${field} holds a lone surrogate, which has no UTF-8 form`);
  }
  if (value.indexOf('\u0000') >= 0) {
    throw new MqttProtocolError('invalid-utf8', `${field} holds U+0000, which MQTT forbids in strings`);
  }
  const length = utf8Length(value);
  if (length > MAX_U16) {
    throw new MqttProtocolError('string-too-long', `${field} is ${length} bytes in UTF-8; MQTT allows 65535`);
  }
  return length;
}

/** The UTF-8 length of `value` when it is ASCII without U+0000 (one byte per unit), otherwise -1. */
function asciiLength(value: string): number {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const unit = value.charCodeAt(i);
    if (unit === 0 || unit >= 0x80) return -1;
  }
  return n;
}

function binaryLength(value: Uint8Array, field: string): number {
  if (!(value instanceof Uint8Array)) throw new MqttProtocolError('invalid-field', `${field} must be a Uint8Array`);
  if (value.length > MAX_U16) {
    throw new MqttProtocolError('string-too-long', `${field} is ${value.length} bytes; MQTT allows 65535`);
  }
  return value.length;
}

function topicNameLength(topic: string, field: string): number {
  const length = stringLength(topic, field);
  const problem = topicNameProblem(topic);
  if (problem !== undefined) throw new MqttProtocolError('invalid-topic', `${field} ${problem}`);
  return length;
}

function topicFilterLength(filter: string, field: string): number {
  const length = stringLength(filter, field);
  const problem = topicFilterProblem(filter);
  if (problem !== undefined) throw new MqttProtocolError('invalid-topic', `${field} ${problem}`);
  return length;
}

function checkQos(qos: number, field: string): QoS {
  if (qos === 0 || qos === 1) return qos;
  if (qos === 2) throw new MqttProtocolError('qos2-unsupported', `${field} is 2; only QoS 0 and 1 are supported`);
  throw new MqttProtocolError('invalid-qos', `${field} must be 0 or 1`);
}

/** `packetName` goes into the error text only when it is thrown: acks are encoded often enough to avoid building it. */
export function checkPacketId(packetId: number | undefined, packetName: string): void {
  if (packetId === undefined) throw new MqttProtocolError('invalid-packet-id', `${packetName} packetId is missing`);
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > MAX_U16) {
    throw new MqttProtocolError('invalid-packet-id', `${packetName} packetId must be an integer from 1 to 65535`);
  }
}
