// Shared by the codec tests: a seeded PRNG, a random packet generator, and the translation between our packets
// and mqtt-packet's objects (the oracle).

import mqttPacket from 'mqtt-packet';
import type { Packet, QoS, SubackCode } from '../../src/mqtt/packets';

export { seededRandom } from '../helpers/seeded-random';

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** A comparable form of a packet: byte fields as hex, absent optional fields left out. */
export function canonical(packet: Packet): unknown {
  return JSON.parse(JSON.stringify(packet, (_key, value: unknown) => (value instanceof Uint8Array ? `bytes:${base64(value)}` : value)));
}

/** Fast and exact, for comparing large payloads. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

// ---- mqtt-packet translation ----

export type OracleObject = Record<string, unknown> & { cmd: string };

export function toOracle(packet: Packet): OracleObject {
  switch (packet.type) {
    case 'connect': {
      const o: OracleObject = {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: packet.clientId,
        clean: packet.cleanSession,
        keepalive: packet.keepAlive,
      };
      if (packet.username !== undefined) o.username = packet.username;
      if (packet.password !== undefined) o.password = Buffer.from(packet.password);
      if (packet.will !== undefined) {
        o.will = { topic: packet.will.topic, payload: Buffer.from(packet.will.payload), qos: packet.will.qos, retain: packet.will.retain };
      }
      return o;
    }
    case 'connack':
      return { cmd: 'connack', sessionPresent: packet.sessionPresent, returnCode: packet.returnCode };
    case 'publish': {
      const o: OracleObject = {
        cmd: 'publish',
        topic: packet.topic,
        payload: Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.length),
        qos: packet.qos,
        dup: packet.dup,
        retain: packet.retain,
      };
      if (packet.packetId !== undefined) o.messageId = packet.packetId;
      return o;
    }
    case 'puback':
      return { cmd: 'puback', messageId: packet.packetId };
    case 'subscribe':
      return { cmd: 'subscribe', messageId: packet.packetId, subscriptions: packet.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case 'suback':
      return { cmd: 'suback', messageId: packet.packetId, granted: [...packet.granted] };
    case 'unsubscribe':
      return { cmd: 'unsubscribe', messageId: packet.packetId, unsubscriptions: [...packet.topics] };
    case 'unsuback':
      return { cmd: 'unsuback', messageId: packet.packetId };
    default:
      return { cmd: packet.type };
  }
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'utf8'));
  throw new Error(`oracle gave ${typeof value} where bytes were expected`);
}

/** mqtt-packet's parsed object as our packet type (fields it adds for other versions are dropped). */
export function fromOracle(o: OracleObject): Packet {
  const id = o.messageId as number;
  switch (o.cmd) {
    case 'connect': {
      if (o.protocolId !== 'MQTT' || o.protocolVersion !== 4) throw new Error('oracle saw a non-3.1.1 CONNECT');
      const packet: Packet = { type: 'connect', clientId: o.clientId as string, cleanSession: o.clean as boolean, keepAlive: o.keepalive as number };
      const will = o.will as { topic: string; payload: unknown; qos: QoS; retain: boolean } | undefined;
      if (will) packet.will = { topic: will.topic, payload: bytesOf(will.payload), qos: will.qos, retain: will.retain };
      if (o.username !== undefined) packet.username = o.username as string;
      if (o.password !== undefined) packet.password = bytesOf(o.password);
      return packet;
    }
    case 'connack':
      return { type: 'connack', sessionPresent: o.sessionPresent as boolean, returnCode: o.returnCode as number };
    case 'publish': {
      const qos = o.qos as QoS;
      const packet: Packet = { type: 'publish', topic: o.topic as string, payload: bytesOf(o.payload), qos, dup: o.dup as boolean, retain: o.retain as boolean };
      if (qos === 1) packet.packetId = id;
      return packet;
    }
    case 'puback':
      return { type: 'puback', packetId: id };
    case 'subscribe':
      return {
        type: 'subscribe',
        packetId: id,
        subscriptions: (o.subscriptions as { topic: string; qos: QoS }[]).map((s) => ({ topic: s.topic, qos: s.qos })),
      };
    case 'suback':
      return { type: 'suback', packetId: id, granted: o.granted as SubackCode[] };
    case 'unsubscribe':
      return { type: 'unsubscribe', packetId: id, topics: o.unsubscriptions as string[] };
    case 'unsuback':
      return { type: 'unsuback', packetId: id };
    case 'pingreq':
    case 'pingresp':
    case 'disconnect':
      return { type: o.cmd };
    default:
      throw new Error(`oracle produced ${o.cmd}`);
  }
}

export function oracleGenerate(packet: Packet): Uint8Array {
  return new Uint8Array(mqttPacket.generate(toOracle(packet) as unknown as mqttPacket.Packet));
}

/** Everything mqtt-packet's 3.1.1 parser makes of `bytes`: packets in order, then any error it raised. */
export function oracleParse(bytes: Uint8Array): { packets: OracleObject[]; errors: string[] } {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: OracleObject[] = [];
  const errors: string[] = [];
  parser.on('packet', (p: unknown) => packets.push(p as OracleObject));
  parser.on('error', (e: Error) => errors.push(e.message));
  parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  return { packets, errors };
}

// ---- random packets ----

// Topic characters: ASCII, `$` and `/`, and 2-, 3- and 4-byte UTF-8 (é, €, 中, 😀 as a surrogate pair).
const TOPIC_PIECES = ['a', 'b', 'z', '0', '9', '-', '_', '.', '$', ' ', '/', '/', 'é', '€', '中', '😀', '=', '%', '?', '&'];

function randomInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function randomString(rng: () => number, minPieces: number, maxPieces: number): string {
  const n = randomInt(rng, minPieces, maxPieces);
  let s = '';
  for (let i = 0; i < n; i++) s += TOPIC_PIECES[randomInt(rng, 0, TOPIC_PIECES.length - 1)];
  return s;
}

function randomTopic(rng: () => number): string {
  return rng() < 0.05 ? randomString(rng, 200, 400) : randomString(rng, 1, 40);
}

function randomFilter(rng: () => number): string {
  const levels: string[] = [];
  const n = randomInt(rng, 1, 6);
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.15) levels.push('+');
    else if (r < 0.25 && i === n - 1) levels.push('#');
    else levels.push(randomString(rng, 0, 8).replace(/\//g, ''));
  }
  return levels.join('/') || 'x';
}

/** Payload sizes chosen so remaining lengths need 1, 2 and 3 bytes (4 bytes: see `randomPublish`). */
function randomPayloadSize(rng: () => number): number {
  const r = rng();
  if (r < 0.1) return 0;
  if (r < 0.5) return randomInt(rng, 1, 127);
  if (r < 0.85) return randomInt(rng, 128, 16_383);
  return randomInt(rng, 16_384, 70_000);
}

export function randomPublish(rng: () => number, payloadSize = randomPayloadSize(rng)): Packet {
  const qos = randomQos(rng);
  const payload = randomBytes(rng, payloadSize);
  const packet: Packet = { type: 'publish', topic: randomTopic(rng), payload, qos, dup: qos === 1 && rng() < 0.3, retain: rng() < 0.3 };
  if (qos === 1) packet.packetId = randomId(rng);
  return packet;
}

export function randomBytes(rng: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const seed = randomInt(rng, 0, 255);
  // Random head, cheap pattern for the bulk: the content only has to survive the trip, not be unpredictable.
  const head = Math.min(length, 64);
  for (let i = 0; i < head; i++) bytes[i] = randomInt(rng, 0, 255);
  for (let i = head; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function randomQos(rng: () => number): QoS {
  return rng() < 0.5 ? 0 : 1;
}

function randomId(rng: () => number): number {
  return rng() < 0.1 ? (rng() < 0.5 ? 1 : 65535) : randomInt(rng, 1, 65535);
}

export function randomPacket(rng: () => number): Packet {
  switch (randomInt(rng, 0, 10)) {
    case 0: {
      const clientId = randomString(rng, 0, 30);
      const packet: Packet = { type: 'connect', clientId, cleanSession: clientId === '' || rng() < 0.5, keepAlive: randomInt(rng, 0, 65535) };
      if (rng() < 0.5) packet.will = { topic: randomTopic(rng), payload: randomBytes(rng, randomInt(rng, 0, 300)), qos: randomQos(rng), retain: rng() < 0.5 };
      if (rng() < 0.6) {
        packet.username = randomString(rng, 0, 60);
        if (rng() < 0.7) packet.password = randomBytes(rng, randomInt(rng, 0, 400));
      }
      return packet;
    }
    case 1: {
      const returnCode = rng() < 0.5 ? 0 : randomInt(rng, 1, 5);
      return { type: 'connack', sessionPresent: returnCode === 0 && rng() < 0.5, returnCode };
    }
    case 2:
    case 3:
    case 4:
      return randomPublish(rng);
    case 5:
      return { type: 'puback', packetId: randomId(rng) };
    case 6: {
      const subscriptions = Array.from({ length: randomInt(rng, 1, 6) }, () => ({ topic: randomFilter(rng), qos: randomQos(rng) }));
      return { type: 'subscribe', packetId: randomId(rng), subscriptions };
    }
    case 7: {
      const codes: SubackCode[] = [0, 1, 2, 0x80];
      const granted = Array.from({ length: randomInt(rng, 1, 6) }, () => codes[randomInt(rng, 0, 3)]);
      return { type: 'suback', packetId: randomId(rng), granted };
    }
    case 8:
      return { type: 'unsubscribe', packetId: randomId(rng), topics: Array.from({ length: randomInt(rng, 1, 5) }, () => randomFilter(rng)) };
    case 9:
      return { type: 'unsuback', packetId: randomId(rng) };
    default: {
      const simple = ['pingreq', 'pingresp', 'disconnect'] as const;
      return { type: simple[randomInt(rng, 0, 2)] };
    }
  }
}

/** One of every packet type, with the optional parts filled in. */
export function onePacketOfEachType(): Packet[] {
  const bytes = (...values: number[]) => new Uint8Array(values);
  return [
    { type: 'connect', clientId: 'device-1', cleanSession: true, keepAlive: 240 },
    {
      type: 'connect',
      clientId: 'dévice-€',
      cleanSession: false,
      keepAlive: 0,
      username: 'hub.azure-devices.net/device-1/?api-version=2021-04-12',
      password: bytes(0x53, 0x68, 0x61, 0x72),
      will: { topic: 'devices/device-1/messages/events/', payload: bytes(1, 2, 3), qos: 1, retain: true },
    },
    { type: 'connack', sessionPresent: true, returnCode: 0 },
    { type: 'connack', sessionPresent: false, returnCode: 5 },
    { type: 'publish', topic: 'devices/d1/messages/events/', payload: bytes(0x7b, 0x7d), qos: 0, dup: false, retain: false },
    { type: 'publish', topic: '$iothub/twin/res/200/?$rid=1', payload: new Uint8Array(300), qos: 1, dup: true, retain: true, packetId: 65535 },
    { type: 'publish', topic: 'a/😀/中', payload: new Uint8Array(0), qos: 1, dup: false, retain: false, packetId: 1 },
    { type: 'puback', packetId: 42 },
    {
      type: 'subscribe',
      packetId: 7,
      subscriptions: [
        { topic: 'devices/d1/messages/devicebound/#', qos: 1 },
        { topic: '$iothub/twin/res/#', qos: 0 },
        { topic: '+/b/+', qos: 1 },
      ],
    },
    { type: 'suback', packetId: 7, granted: [1, 0, 0x80, 2] },
    { type: 'unsubscribe', packetId: 8, topics: ['$iothub/methods/POST/#', 'a/+'] },
    { type: 'unsuback', packetId: 8 },
    { type: 'pingreq' },
    { type: 'pingresp' },
    { type: 'disconnect' },
  ];
}
