// The broker's side of the MQTT codec: reading what a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
// DISCONNECT, and PUBLISH/PUBACK like the device) and writing what only a broker sends (CONNACK, SUBACK,
// UNSUBACK, PINGRESP), and whole-packet decoding (decodePacket). The device never needs it, so it is kept out of the device image: only tests, soak's fake
// hubs and fuzzers, and benchmarks import it. Framing, the Reader and the shared encoders come from decode.ts
// and encode.ts, so both sides follow the same rules.

import { err } from '../result';
import { checkFixedHeader, decodeBody, expectEmpty, Reader, readSharedPacket, readWith, TYPE_NAMES, type BodyDecoder, type DecodeResult } from './decode';
import { allocate, checkPacketId, encodeIdOnly, encodePacket, writeHeader, writeU16 } from './encode';
import type { ConnackPacket, ConnectPacket, Packet, QoS, SubackPacket, Subscription, Will } from './packets';
import { MqttProtocolError, type MqttProtocolErrorCode } from './protocol-error';
import { MqttStreamParser, type MqttStreamParserOptions } from './stream-parser';

/**
 * Decodes one complete packet: `bytes` must hold exactly the fixed header, remaining length and body. `decode`
 * picks the side (the device's by default). The device itself only decodes through the stream parser.
 */
export function decodePacket(bytes: Uint8Array, decode: BodyDecoder = decodeBody): DecodeResult {
  if (bytes.length === 0) return fail('truncated', 'no bytes: a packet needs at least 2');
  const first = bytes[0];
  const headerError = checkFixedHeader(first);
  if (headerError !== undefined) return err(headerError);

  let remaining = 0;
  let multiplier = 1;
  let at = 1;
  for (;;) {
    if (at >= bytes.length) return fail('truncated', `${TYPE_NAMES[first >> 4]} ends inside its remaining length`);
    const digit = bytes[at++];
    remaining += (digit & 0x7f) * multiplier;
    if ((digit & 0x80) === 0) break;
    if (at === 5) return fail('malformed-length', 'remaining length runs past 4 bytes');
    multiplier *= 128;
  }
  const total = at + remaining;
  if (bytes.length < total) {
    return fail('truncated', `${TYPE_NAMES[first >> 4]} has ${bytes.length} of its ${total} bytes`);
  }
  if (bytes.length > total) {
    return fail('length-mismatch', `${bytes.length - total} bytes follow the ${total}-byte ${TYPE_NAMES[first >> 4]}`);
  }
  return decode(first, bytes.subarray(at));
}


function fail(code: MqttProtocolErrorCode, message: string): DecodeResult {
  return err(new MqttProtocolError(code, message));
}

/** Decodes a framed packet a client sends (the broker's BodyDecoder). */
export function decodeClientBody(first: number, body: Uint8Array): DecodeResult {
  return readWith(readClientPacket, first, body);
}

/** decodePacket for the broker's side: one complete packet a client sent. */
export function decodeClientPacket(bytes: Uint8Array): DecodeResult {
  return decodePacket(bytes, decodeClientBody);
}

/** A stream parser that reads what clients send (a fake hub's view of a device connection). */
export function clientStreamParser(options: MqttStreamParserOptions = {}): MqttStreamParser {
  return new MqttStreamParser({ ...options, decodeBody: decodeClientBody });
}

/** Packet types only a client sends: CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT. */
const CLIENT_SENT = [false, true, false, false, false, false, false, false, true, false, true, false, true, false, true, false];

/**
 * Either side, by packet type: what a client sends as a broker reads it, the rest as the device reads it. For
 * codec tests and fuzzers that cover every packet type in one stream.
 */
export function decodeEitherBody(first: number, body: Uint8Array): DecodeResult {
  return CLIENT_SENT[first >> 4] ? decodeClientBody(first, body) : decodeBody(first, body);
}

/** decodePacket with decodeEitherBody. */
export function decodeEitherPacket(bytes: Uint8Array): DecodeResult {
  return decodePacket(bytes, decodeEitherBody);
}

/** Encodes any packet a broker sends, and (through encodePacket) anything a client sends. */
export function encodeBrokerPacket(packet: Packet): Uint8Array {
  switch (packet.type) {
    case 'connack':
      return encodeConnack(packet);
    case 'suback':
      return encodeSuback(packet);
    case 'unsuback':
      return encodeIdOnly(0xb0, packet.packetId, 'UNSUBACK');
    case 'pingresp':
      return new Uint8Array([0xd0, 0]);
    default:
      return encodePacket(packet);
  }
}

function readClientPacket(first: number, body: Uint8Array): Packet {
  switch (first >> 4) {
    case 1: return readConnect(new Reader(body, 'CONNECT'));
    case 8: return readSubscribe(new Reader(body, 'SUBSCRIBE'));
    case 10: return readUnsubscribe(new Reader(body, 'UNSUBSCRIBE'));
    case 12:
      expectEmpty(body, 'PINGREQ');
      return { type: 'pingreq' };
    case 14:
      expectEmpty(body, 'DISCONNECT');
      return { type: 'disconnect' };
    default: return readSharedPacket(first, body, 'a client');
  }
}

function readConnect(reader: Reader): Packet {
  // Compared as bytes: a wrong protocol name is a protocol error even when it is not valid UTF-8.
  const nameLength = reader.u16('protocol name length');
  const name = reader.take(nameLength, 'protocol name');
  if (nameLength !== 4 || name[0] !== 0x4d || name[1] !== 0x51 || name[2] !== 0x54 || name[3] !== 0x54) {
    throw new MqttProtocolError('invalid-protocol', 'CONNECT protocol name is not "MQTT"');
  }
  const level = reader.u8('protocol level');
  if (level !== 4) throw new MqttProtocolError('invalid-protocol', `CONNECT protocol level is ${level}, not 4`);
  const flags = reader.u8('connect flags');
  if ((flags & 0x01) !== 0) throw new MqttProtocolError('reserved-flags', 'CONNECT reserved flag bit 0 is set');
  const keepAlive = reader.u16('keep alive');
  const clientId = reader.string('client id');

  let will: Will | undefined;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if ((flags & 0x04) !== 0) {
    if (willQos === 3) throw new MqttProtocolError('invalid-qos', 'CONNECT will QoS bits are 3');
    if (willQos === 2) throw new MqttProtocolError('qos2-unsupported', 'CONNECT will QoS is 2');
    const topic = reader.topicName('will topic');
    will = { topic, payload: reader.binary('will payload'), qos: willQos as QoS, retain: willRetain };
  } else if (willQos !== 0 || willRetain) {
    throw new MqttProtocolError('invalid-field', 'CONNECT will QoS or retain set without the will flag');
  }

  const hasUsername = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (hasPassword && !hasUsername) throw new MqttProtocolError('invalid-field', 'CONNECT password flag without username flag');
  const username = hasUsername ? reader.string('username') : undefined;
  const password = hasPassword ? reader.binary('password') : undefined;
  reader.end();

  const packet: ConnectPacket = { type: 'connect', clientId, cleanSession: (flags & 0x02) !== 0, keepAlive };
  if (will !== undefined) packet.will = will;
  if (username !== undefined) packet.username = username;
  if (password !== undefined) packet.password = password;
  return packet;
}

function readSubscribe(reader: Reader): Packet {
  const packetId = reader.packetId();
  const subscriptions: Subscription[] = [];
  while (reader.left() > 0) {
    const field = `topic filter ${subscriptions.length + 1}`;
    const topic = reader.topicFilter(field);
    const options = reader.u8(`requested QoS of ${field}`);
    if ((options & 0xfc) !== 0) throw new MqttProtocolError('reserved-flags', `SUBSCRIBE options of ${field} use bits 7-2`);
    const qos = options & 3;
    if (qos === 3) throw new MqttProtocolError('invalid-qos', `SUBSCRIBE requested QoS of ${field} is 3`);
    if (qos === 2) throw new MqttProtocolError('qos2-unsupported', `SUBSCRIBE requested QoS of ${field} is 2`);
    subscriptions.push({ topic, qos: qos as QoS });
  }
  if (subscriptions.length === 0) throw new MqttProtocolError('invalid-field', 'SUBSCRIBE has no topic filter');
  return { type: 'subscribe', packetId, subscriptions };
}


function readUnsubscribe(reader: Reader): Packet {
  const packetId = reader.packetId();
  const topics: string[] = [];
  while (reader.left() > 0) topics.push(reader.topicFilter(`topic filter ${topics.length + 1}`));
  if (topics.length === 0) throw new MqttProtocolError('invalid-field', 'UNSUBSCRIBE has no topic filter');
  return { type: 'unsubscribe', packetId, topics };
}

function encodeConnack(packet: ConnackPacket): Uint8Array {
  const code = packet.returnCode;
  if (!Number.isInteger(code) || code < 0 || code > 5) {
    throw new MqttProtocolError('invalid-field', 'CONNACK returnCode must be an integer from 0 to 5');
  }
  if (packet.sessionPresent && code !== 0) {
    throw new MqttProtocolError('invalid-field', 'CONNACK sessionPresent must be false when returnCode is not 0');
  }
  return new Uint8Array([0x20, 2, packet.sessionPresent ? 1 : 0, code]);
}

function encodeSuback(packet: SubackPacket): Uint8Array {
  checkPacketId(packet.packetId, 'SUBACK');
  const granted = packet.granted;
  if (!Array.isArray(granted) || granted.length === 0) {
    throw new MqttProtocolError('invalid-field', 'SUBACK granted must hold at least one return code');
  }
  for (let i = 0; i < granted.length; i++) {
    const code = granted[i];
    if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
      throw new MqttProtocolError('invalid-qos', `SUBACK granted[${i}] must be 0, 1, 2 or 0x80`);
    }
  }
  const remaining = 2 + granted.length;
  const bytes = allocate(remaining, 'SUBACK');
  const at = writeU16(bytes, writeHeader(bytes, 0x90, remaining), packet.packetId);
  bytes.set(granted, at);
  return bytes;
}
