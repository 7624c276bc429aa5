// Cross-checks the codec against mqtt-packet: our bytes must mean the same to it, and its bytes to us.

import { encodePacket } from '../../src/mqtt/encode';
import type { Packet } from '../../src/mqtt/packets';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { base64, canonical, fromOracle, hex, onePacketOfEachType, oracleGenerate, oracleParse, randomPacket, randomPublish, seededRandom } from './codec-helpers';
import { encodeBrokerPacket, decodeEitherPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

function decodedByUs(bytes: Uint8Array): Packet {
  const result = decodeEitherPacket(bytes);
  if (!result.ok) throw result.error;
  return result.value;
}

function decodedByOracle(bytes: Uint8Array): Packet {
  const { packets, errors } = oracleParse(bytes);
  expect(errors).toEqual([]);
  expect(packets).toHaveLength(1);
  return fromOracle(packets[0]);
}

describe('every packet type agrees with mqtt-packet', () => {
  test.each(onePacketOfEachType().map((p, i) => [`${i}: ${p.type}`, p] as const))('%s', (_name, packet) => {
    const ours = encodeBrokerPacket(packet);
    expect(canonical(decodedByOracle(ours))).toEqual(canonical(packet));

    const theirs = oracleGenerate(packet);
    expect(canonical(decodedByUs(theirs))).toEqual(canonical(packet));
    // MQTT leaves no encoding choice for these packets, so the two encoders must agree byte for byte.
    expect(hex(ours)).toBe(hex(theirs));
  });
});

describe('randomized round trips through mqtt-packet', () => {
  const COUNT = 10_000;
  const seed = Number(process.env.CODEC_SEED ?? 0x5eed_c0de);

  test(`${COUNT} seeded packets (seed ${seed})`, () => {
    console.log(`codec randomized test seed: ${seed} (set CODEC_SEED to replay)`);
    const rng = seededRandom(seed);
    const lengthFieldSizes = new Set<number>();
    const types = new Set<string>();
    const stream: Uint8Array[] = [];
    for (let i = 0; i < COUNT; i++) {
      // A few payloads over 2 MiB, so the remaining length takes all 4 bytes.
      const packet = i % 2500 === 1000 ? randomPublish(rng, 2_097_152 + Math.floor(rng() * 100_000)) : randomPacket(rng);
      types.add(packet.type);
      const ours = encodeBrokerPacket(packet);
      const theirs = oracleGenerate(packet);
      const expected = canonical(packet);
      const context = `packet ${i} (${packet.type})`;
      expect([context, canonical(decodedByOracle(ours))]).toEqual([context, expected]);
      expect([context, canonical(decodedByUs(theirs))]).toEqual([context, expected]);
      expect([context, base64(ours)]).toEqual([context, base64(theirs)]);
      let size = 1;
      while (ours[size] & 0x80) size++;
      lengthFieldSizes.add(size);
      if (ours.length < 20_000) stream.push(ours);
    }
    expect([...lengthFieldSizes].sort()).toEqual([1, 2, 3, 4]);
    expect(types.size).toBe(11);

    // The same packets, back to back, through the stream parser in random chunks.
    let total = 0;
    for (const s of stream) total += s.length;
    const all = new Uint8Array(total);
    let at = 0;
    for (const s of stream) {
      all.set(s, at);
      at += s.length;
    }
    const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
    const decoded: string[] = [];
    for (let from = 0; from < all.length; ) {
      const to = Math.min(all.length, from + 1 + Math.floor(rng() * 3000));
      for (const r of parser.push(all.slice(from, to))) {
        if (!r.ok) throw r.error;
        decoded.push(base64(encodeBrokerPacket(r.value)));
      }
      from = to;
    }
    expect(decoded).toEqual(stream.map(base64));
  });
});
