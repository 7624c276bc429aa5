// Fuzzes the MQTT stream parser with mutated streams of valid packets, fed whole and in random chunks.
// Properties checked for every input:
//   - nothing throws out of push() (errors come back as results);
//   - bounded time per input;
//   - the bytes held for an unfinished packet never exceed maxPacketSize;
//   - chunking does not matter: whole and chunked feeding give the same packets and the same error;
//   - every accepted packet re-encodes, and the re-encoded bytes decode to the same packet.

import type { DecodeResult } from '../../src/mqtt/decode';
import { encodePacket } from '../../src/mqtt/encode';
import type { Packet } from '../../src/mqtt/packets';
import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { DEFAULT_MAX_PACKET_SIZE, MqttStreamParser } from '../../src/mqtt/stream-parser';
import { Rng } from '../lib/rng';
import { addFailure, countCode, emptyStats, hexOf, nowMs, type FuzzStats } from './fuzz-report';
import { mutateBytes } from './mutate';
import { randomMqttStream } from './mqtt-seeds';
import { encodeBrokerPacket, decodeEitherPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

export interface MqttFuzzOptions {
  seed: number;
  inputs: number;
  /** A single input taking longer than this is a failure (a hang, or quadratic work). */
  maxInputMs?: number;
}

// A module binding: a global `Math.` lookup inside this loop is slow under jest's vm context.
const imul = Math.imul;

/** FNV-1a over the bytes: cheap enough to compare large payloads on every input. */
function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = imul(h ^ bytes[i]!, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

function canonical(packet: Packet): string {
  return JSON.stringify(packet, (_key, value: unknown) => (value instanceof Uint8Array ? `bytes:${digest(value)}` : value));
}

function summary(results: DecodeResult[]): string[] {
  return results.map((r) => (r.ok ? canonical(r.value) : `error:${r.error.code}`));
}

/**
 * MQTT 3.1.1 lets a server receive a CONNECT with an empty client id and a persistent session (it must answer
 * CONNACK 2), so the decoder accepts it while our client-side encoder refuses to write one.
 */
function encoderRefusalIsExpected(packet: Packet, error: unknown): boolean {
  return (
    packet.type === 'connect' &&
    packet.clientId === '' &&
    !packet.cleanSession &&
    error instanceof MqttProtocolError &&
    error.code === 'invalid-field'
  );
}

/** A fixed header: the type byte and at most 4 remaining-length bytes. */
const MAX_HEADER_BYTES = 5;

function splitIntoChunks(bytes: Uint8Array, rng: Rng): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = rng.chance(0.3) ? 1 : rng.int(1, Math.max(1, Math.min(64, bytes.length - at)));
    // Copies, as a socket would hand over fresh buffers; the parser may keep views of them.
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  return chunks;
}

export function fuzzMqttStreamParser(options: MqttFuzzOptions): FuzzStats {
  const rng = new Rng(options.seed);
  const maxInputMs = options.maxInputMs ?? 250;
  const stats = emptyStats(options.seed);
  stats.maxBufferedBytes = 0;
  stats.maxPacketSize = DEFAULT_MAX_PACKET_SIZE;
  const donors: Uint8Array[] = [];
  const started = nowMs();

  for (let i = 0; i < options.inputs; i++) {
    const valid = randomMqttStream(rng);
    const input = rng.chance(0.9) ? mutateBytes(valid, rng, donors) : valid;
    if (donors.length < 64) donors.push(valid);
    else donors[rng.int(0, 63)] = valid;
    // Small limits reach 'packet-too-large' often; the default one is what devices run with.
    const maxPacketSize = rng.chance(0.7) ? DEFAULT_MAX_PACKET_SIZE : rng.int(2, 512);
    const chunks = splitIntoChunks(input, rng);
    const fail = (property: string, detail: string): void =>
      addFailure(stats, { property, target: 'mqtt stream parser', detail: `input ${i}, maxPacketSize ${maxPacketSize}: ${detail}`, input: hexOf(input) });

    stats.inputs++;
    let whole: DecodeResult[];
    let chunked: DecodeResult[];
    const parseBoth = (record: boolean): [DecodeResult[], DecodeResult[]] => {
      const a = new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize }).push(input.slice());
      const b: DecodeResult[] = [];
      const parser = new MqttStreamParser({ decodeBody: decodeEitherBody, maxPacketSize });
      for (const chunk of chunks) {
        for (const r of parser.push(chunk)) b.push(r);
        if (!record) continue;
        const held = parser.bufferedBytes;
        if (held > (stats.maxBufferedBytes ?? 0)) stats.maxBufferedBytes = held;
        // The size check runs once the remaining length is complete, so up to 5 header bytes (type and a 4-byte
        // length) may be held first, and a PUBLISH being skipped reads its 2-byte topic length before deciding
        // whether its topic fits: the bound is the limit, or 7 bytes for limits below that.
        if (held > Math.max(maxPacketSize, MAX_HEADER_BYTES + 2)) fail('buffer-bound', `parser holds ${held} bytes, limit ${maxPacketSize}`);
      }
      return [a, b];
    };
    const t0 = nowMs();
    try {
      [whole, chunked] = parseBoth(true);
    } catch (error) {
      fail('exception', `push threw ${String(error)}`);
      continue;
    }
    let elapsed = nowMs() - t0;
    // A slow input is timed twice more: a hang is slow every time, a preempted or collecting process is not.
    // The parser keeps views of the chunks but never writes to them, so they can be pushed again.
    for (let retry = 0; retry < 2 && elapsed > maxInputMs; retry++) {
      const t1 = nowMs();
      parseBoth(false);
      elapsed = Math.min(elapsed, nowMs() - t1);
    }
    if (elapsed > stats.slowestInputMs) stats.slowestInputMs = elapsed;
    if (elapsed > maxInputMs) fail('slow', `took ${elapsed.toFixed(1)} ms`);

    const a = summary(whole);
    const b = summary(chunked);
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) fail('chunking', `whole gave [${a.join(', ')}], chunks gave [${b.join(', ')}]`);

    let packets = 0;
    for (const r of whole) {
      if (!r.ok) {
        countCode(stats, r.error.code);
        if (!(r.error instanceof MqttProtocolError)) fail('error-type', 'an error result is not an MqttProtocolError');
        continue;
      }
      packets++;
      let encoded: Uint8Array;
      try {
        encoded = encodeBrokerPacket(r.value);
      } catch (error) {
        if (!encoderRefusalIsExpected(r.value, error)) fail('re-encode', `accepted ${canonical(r.value)} but the encoder threw ${String(error)}`);
        continue;
      }
      const again = decodeEitherPacket(encoded);
      if (!again.ok) fail('re-encode', `re-encoded ${r.value.type} does not decode: ${again.error.code}`);
      else if (canonical(again.value) !== canonical(r.value)) fail('re-encode', `re-encoded ${r.value.type} decodes differently`);
    }
    if (packets > 0) stats.accepted++;
    else stats.rejected++;
  }
  stats.elapsedMs = nowMs() - started;
  return stats;
}
