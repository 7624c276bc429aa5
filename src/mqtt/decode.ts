// Bytes to packets, strictly: whatever MQTT 3.1.1 (or our QoS 0/1 profile) forbids comes back as a typed
// error, never as an exception. Byte fields (payload, will payload) are views into the input, not copies: the
// caller must not reuse the input buffer while it holds the packet.
// This is the device's side: it reads what a broker sends (CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP)
// and refuses what only a client sends, as a client must, and only through the stream parser's framing. The
// broker's side (CONNECT, SUBSCRIBE, ...) and whole-packet decoding are in broker-codec.ts, which only tests,
// soak and benchmarks import; it reuses the Reader below.

import { utf8Decode } from '../encoding/utf8';
import { err, ok, type Result } from '../result';
import type { Packet, QoS, SubackCode } from './packets';
import { MqttProtocolError } from './protocol-error';
import { topicFilterProblem, topicNameProblem } from './topic-rules';

/** What decoding one packet gives: the packet, or the protocol error naming what is wrong. */
export type DecodeResult = Result<Packet, MqttProtocolError>;

/** Decodes a framed packet from its first byte and body: one side's choice of which packet types it accepts. */
export type BodyDecoder = (first: number, body: Uint8Array) => DecodeResult;

export const TYPE_NAMES = [
  'reserved type 0',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'reserved type 15',
];

/**
 * Checks the first byte of a packet on its own: the type and the flags MQTT fixes for it. The stream parser calls
 * it as soon as that byte arrives, so a bad stream is refused before its body is awaited.
 */
export function checkFixedHeader(first: number): MqttProtocolError | undefined {
  const type = first >> 4;
  const flags = first & 0x0f;
  switch (type) {
    case 0:
    case 15:
      return new MqttProtocolError('unknown-type', `packet type ${type} is reserved`);
    case 5:
    case 6:
    case 7:
      return new MqttProtocolError('qos2-unsupported', `${TYPE_NAMES[type]} belongs to the QoS 2 flow`);
    case 3: {
      const qos = (flags >> 1) & 3;
      if (qos === 3) return new MqttProtocolError('invalid-qos', 'PUBLISH QoS bits are 3');
      if (qos === 2) return new MqttProtocolError('qos2-unsupported', 'PUBLISH with QoS 2');
      if (qos === 0 && (flags & 0x08) !== 0) {
        return new MqttProtocolError('invalid-field', 'PUBLISH DUP flag set on a QoS 0 message');
      }
      return undefined;
    }
    case 8:
    case 10:
      return flags === 0x02
        ? undefined
        : new MqttProtocolError('reserved-flags', `${TYPE_NAMES[type]} fixed-header flags must be 0010`);
    default:
      return flags === 0
        ? undefined
        : new MqttProtocolError('reserved-flags', `${TYPE_NAMES[type]} fixed-header flags must be 0000`);
  }
}

/**
 * Decodes a packet a broker sends, from its first byte and its body (everything after the remaining length),
 * which the caller has already framed. `first` must have passed `checkFixedHeader`.
 */
export function decodeBody(first: number, body: Uint8Array): DecodeResult {
  return readWith(readBrokerPacket, first, body);
}

/** Runs a body reader, turning the MqttProtocolError it throws into the error result. */
export function readWith(read: (first: number, body: Uint8Array) => Packet, first: number, body: Uint8Array): DecodeResult {
  try {
    return ok(read(first, body));
  } catch (error) {
    if (error instanceof MqttProtocolError) return err(error);
    throw error;
  }
}

function readBrokerPacket(first: number, body: Uint8Array): Packet {
  switch (first >> 4) {
    case 2: return readConnack(body);
    case 9: return readSuback(new Reader(body, 'SUBACK'));
    case 11: return { type: 'unsuback', packetId: readIdOnly(body, 'UNSUBACK') };
    case 13:
      expectEmpty(body, 'PINGRESP');
      return { type: 'pingresp' };
    default: return readSharedPacket(first, body, 'a broker');
  }
}

/** The packets both sides send (PUBLISH, PUBACK); any other type is one `sender` must not send. */
export function readSharedPacket(first: number, body: Uint8Array, sender: string): Packet {
  const type = first >> 4;
  if (type === 3) return readPublish(first, new Reader(body, 'PUBLISH'));
  if (type === 4) return { type: 'puback', packetId: readIdOnly(body, 'PUBACK') };
  throw refusedType(first, sender);
}

/** The error for a packet type `sender` (the other side) never sends, or one checkFixedHeader refuses. */
function refusedType(first: number, sender: string): MqttProtocolError {
  const type = first >> 4;
  const header = checkFixedHeader(first);
  if (header !== undefined) return header;
  return new MqttProtocolError('unexpected-type', `${sender} must not send ${TYPE_NAMES[type]}`);
}

function readConnack(body: Uint8Array): Packet {
  if (body.length !== 2) throw new MqttProtocolError('length-mismatch', `CONNACK body is ${body.length} bytes, not 2`);
  const flags = body[0];
  const returnCode = body[1];
  if ((flags & 0xfe) !== 0) throw new MqttProtocolError('reserved-flags', 'CONNACK acknowledge flags bits 7-1 are set');
  if (returnCode > 5) throw new MqttProtocolError('invalid-field', `CONNACK return code ${returnCode} is reserved`);
  if (flags !== 0 && returnCode !== 0) {
    throw new MqttProtocolError('invalid-field', 'CONNACK session present set on a refused connection');
  }
  return { type: 'connack', sessionPresent: flags === 1, returnCode };
}

function readPublish(first: number, reader: Reader): Packet {
  const qos = ((first >> 1) & 3) as QoS;
  const topic = reader.topicName('topic');
  if (qos === 1) {
    const packetId = reader.packetId();
    return { type: 'publish', topic, payload: reader.rest(), qos, dup: (first & 0x08) !== 0, retain: (first & 0x01) !== 0, packetId };
  }
  return { type: 'publish', topic, payload: reader.rest(), qos, dup: false, retain: (first & 0x01) !== 0 };
}

function readIdOnly(body: Uint8Array, name: string): number {
  if (body.length !== 2) throw new MqttProtocolError('length-mismatch', `${name} body is ${body.length} bytes, not 2`);
  return new Reader(body, name).packetId();
}

function readSuback(reader: Reader): Packet {
  const packetId = reader.packetId();
  const granted: SubackCode[] = [];
  while (reader.left() > 0) {
    const code = reader.u8('return code');
    if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
      throw new MqttProtocolError('invalid-qos', `SUBACK return code ${granted.length + 1} is ${code}`);
    }
    granted.push(code);
  }
  if (granted.length === 0) throw new MqttProtocolError('invalid-field', 'SUBACK has no return code');
  return { type: 'suback', packetId, granted };
}

export function expectEmpty(body: Uint8Array, name: string): void {
  if (body.length !== 0) throw new MqttProtocolError('length-mismatch', `${name} body is ${body.length} bytes, not 0`);
}

const fromCharCode = String.fromCharCode;

/**
 * 1 for the bytes a text can hold without a second look: ASCII except U+0000 and the wildcards `+` and `#`.
 * A text made only of them needs neither the UTF-8 decoder nor the NUL and topic-name scans.
 */
const PLAIN = new Uint8Array(256);
for (let b = 1; b < 0x80; b++) PLAIN[b] = 1;
PLAIN[0x23] = 0;
PLAIN[0x2b] = 0;

/**
 * `bytes[start, end)` as text when every byte is PLAIN (almost every topic is), else undefined and the strict
 * path decides. Eight units per call: growing the string one unit at a time, or collecting units for one big
 * call, measured several times slower on V8 and about 4x more XS compute.
 */
function plainText(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = '';
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const b0 = bytes[i];
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const b3 = bytes[i + 3];
    const b4 = bytes[i + 4];
    const b5 = bytes[i + 5];
    const b6 = bytes[i + 6];
    const b7 = bytes[i + 7];
    if ((PLAIN[b0] & PLAIN[b1] & PLAIN[b2] & PLAIN[b3] & PLAIN[b4] & PLAIN[b5] & PLAIN[b6] & PLAIN[b7]) === 0) return undefined;
    text += fromCharCode(b0, b1, b2, b3, b4, b5, b6, b7);
  }
  for (; i < end; i++) {
    const b = bytes[i];
    if (PLAIN[b] === 0) return undefined;
    text += fromCharCode(b);
  }
  return text;
}

/** A cursor over one packet body; every read names its field so a failure says what was being read. */
export class Reader {
  private at = 0;
  /** The last string() read only PLAIN bytes. */
  private lastWasPlain = false;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {}

  left(): number {
    return this.bytes.length - this.at;
  }

  u8(field: string): number {
    if (this.at >= this.bytes.length) throw this.truncated(field);
    return this.bytes[this.at++];
  }

  u16(field: string): number {
    if (this.at + 2 > this.bytes.length) throw this.truncated(field);
    const value = (this.bytes[this.at] << 8) | this.bytes[this.at + 1];
    this.at += 2;
    return value;
  }

  take(length: number, field: string): Uint8Array {
    if (this.at + length > this.bytes.length) throw this.truncated(field);
    const view = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }

  packetId(): number {
    const id = this.u16('packet identifier');
    if (id === 0) throw new MqttProtocolError('invalid-packet-id', `${this.name} packet identifier is 0`);
    return id;
  }

  binary(field: string): Uint8Array {
    return this.take(this.u16(`${field} length`), field);
  }

  string(field: string): string {
    const length = this.u16(`${field} length`);
    if (this.at + length > this.bytes.length) throw this.truncated(field);
    const plain = plainText(this.bytes, this.at, this.at + length);
    this.lastWasPlain = plain !== undefined;
    if (plain !== undefined) {
      this.at += length;
      return plain;
    }
    const value = utf8Decode(this.bytes, this.at, this.at + length);
    if (value === undefined) throw new MqttProtocolError('invalid-utf8', `${this.name} ${field} is not valid UTF-8`);
    if (value.indexOf('\u0000') >= 0) throw new MqttProtocolError('invalid-utf8', `${this.name} ${field} holds U+0000`);
    this.at += length;
    return value;
  }

  topicName(field: string): string {
    const topic = this.string(field);
    // A plain text holds no wildcard, so only emptiness is left to check.
    if (this.lastWasPlain && topic.length > 0) return topic;
    const problem = topicNameProblem(topic);
    if (problem !== undefined) throw new MqttProtocolError('invalid-topic', `${this.name} ${field} ${problem}`);
    return topic;
  }

  topicFilter(field: string): string {
    const filter = this.string(field);
    const problem = topicFilterProblem(filter);
    if (problem !== undefined) throw new MqttProtocolError('invalid-topic', `${this.name} ${field} ${problem}`);
    return filter;
  }

  rest(): Uint8Array {
    const view = this.bytes.subarray(this.at);
    this.at = this.bytes.length;
    return view;
  }

  end(): void {
    const extra = this.bytes.length - this.at;
    if (extra !== 0) throw new MqttProtocolError('length-mismatch', `${this.name} has ${extra} bytes after its last field`);
  }

  private truncated(field: string): MqttProtocolError {
    return new MqttProtocolError('truncated', `${this.name} ends before its ${field}`);
  }
}
