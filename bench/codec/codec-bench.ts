// Codec throughput, ours against mqtt-packet (the codec under MQTT.js and aedes): encode and decode of the
// telemetry PUBLISH at each payload size, and of PUBACK and SUBACK. Decoding goes through each library's
// stream parser, which is how a client meets bytes from a socket.

import mqtt from 'mqtt-packet';
import { encodePacket } from '../../src/mqtt/encode';
import type { Packet } from '../../src/mqtt/packets';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import type { BenchConfig } from '../lib/config';
import { formatRatio, formatSummary } from '../lib/format';
import { measureInterleaved, type Batch } from '../lib/measure';
import { shortfallText, verdictFor, type Headline, type SectionResult } from '../lib/report';
import { geometricMean, ratio } from '../lib/stats';
import { ACK_PACKET_ID, benchTelemetryTopic, payloadCases, SUBACK_GRANTED } from './fixtures';
import { encodeBrokerPacket, decodeEitherBody } from '../../src/mqtt/broker-codec';

export const CODEC_GOAL = 3;

interface CodecCase {
  name: string;
  ours: Packet;
  peer: mqtt.Packet;
}

function codecCases(config: BenchConfig): CodecCase[] {
  const topic = benchTelemetryTopic();
  const cases: CodecCase[] = payloadCases(config.seed, config.codec.payloadSizes).map((c) => ({
    name: `PUBLISH QoS 1, ${c.label}`,
    ours: { type: 'publish', topic, payload: c.payload, qos: 1, dup: false, retain: false, packetId: ACK_PACKET_ID },
    peer: { cmd: 'publish', topic, payload: Buffer.from(c.payload), qos: 1, dup: false, retain: false, messageId: ACK_PACKET_ID },
  }));
  cases.push({
    name: 'PUBACK',
    ours: { type: 'puback', packetId: ACK_PACKET_ID },
    peer: { cmd: 'puback', messageId: ACK_PACKET_ID },
  });
  cases.push({
    name: 'SUBACK (4 codes)',
    ours: { type: 'suback', packetId: ACK_PACKET_ID, granted: [...SUBACK_GRANTED] },
    peer: { cmd: 'suback', messageId: ACK_PACKET_ID, granted: [...SUBACK_GRANTED] },
  });
  return cases;
}

export function oursEncode(packet: Packet): Batch {
  return (n) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += encodeBrokerPacket(packet).length;
    return total;
  };
}

export function peerEncode(packet: mqtt.Packet): Batch {
  return (n) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += mqtt.generate(packet).length;
    return total;
  };
}

export function oursDecode(bytes: Uint8Array): Batch {
  const parser = new MqttStreamParser({ decodeBody: decodeEitherBody });
  return (n) => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const results = parser.push(bytes);
      if (results.length !== 1 || !results[0].ok) throw new Error('our parser failed on the benchmark packet');
      total += results.length;
    }
    return total;
  };
}

export function peerDecode(bytes: Buffer): Batch {
  const parser = mqtt.parser({ protocolVersion: 4 });
  let seen = 0;
  parser.on('packet', () => seen++);
  parser.on('error', (error) => {
    throw error;
  });
  return (n) => {
    const before = seen;
    for (let i = 0; i < n; i++) parser.parse(bytes);
    if (seen - before !== n) throw new Error('mqtt-packet parser missed benchmark packets');
    return seen;
  };
}

export async function runCodecBench(config: BenchConfig): Promise<SectionResult> {
  const options = { warmupMs: config.codec.warmupMs, runMs: config.codec.runMs, runs: config.codec.runs };
  const rows: string[][] = [];
  const ratios: { name: string; op: string; value: number }[] = [];
  for (const c of codecCases(config)) {
    const bytes = encodeBrokerPacket(c.ours);
    const reference = mqtt.generate(c.peer);
    if (!Buffer.from(bytes).equals(reference)) throw new Error(`${c.name}: ours and mqtt-packet encode different bytes`);
    for (const op of ['encode', 'decode'] as const) {
      const contenders =
        op === 'encode'
          ? [
              { name: 'ours', batch: oursEncode(c.ours) },
              { name: 'mqtt-packet', batch: peerEncode(c.peer) },
            ]
          : [
              { name: 'ours', batch: oursDecode(bytes) },
              { name: 'mqtt-packet', batch: peerDecode(reference) },
            ];
      const [ours, peer] = measureInterleaved(contenders, options);
      const r = ratio(ours.opsPerSecond.median, peer.opsPerSecond.median, 'higher');
      ratios.push({ name: c.name, op, value: r });
      rows.push([c.name, op, `${bytes.length}`, formatSummary(ours.opsPerSecond), formatSummary(peer.opsPerSecond), formatRatio(r)]);
    }
  }

  const worst = ratios.reduce((a, b) => (b.value < a.value ? b : a));
  const mean = geometricMean(ratios.map((r) => r.value));
  const headlines: Headline[] = [
    codecHeadline('codec, geometric mean of all cases', mean),
    codecHeadline(`codec, slowest case (${worst.name} ${worst.op})`, worst.value),
  ];
  return {
    name: 'codec',
    skipped: [],
    headlines,
    tables: [
      {
        title: 'MQTT codec: operations per second, median (min..max) of runs, ours vs mqtt-packet 9',
        header: ['packet', 'op', 'bytes', 'ours ops/s', 'mqtt-packet ops/s', 'ours / peer'],
        rows,
        notes: [
          `Goal: at least ${CODEC_GOAL}x mqtt-packet in every case. ${config.codec.runs} runs of ${config.codec.runMs} ms per contender after ${config.codec.warmupMs} ms warm-up, alternating.`,
          'encode: packet object to bytes (encodePacket vs mqtt.generate). decode: one whole packet pushed into a reused stream parser (MqttStreamParser.push vs parser.parse).',
          'Both produce the same bytes (checked before timing). Payload bytes are seeded random; the topic is the real telemetry topic with $.mid, $.ct, $.ce and one application property.',
        ],
      },
    ],
  };
}

function codecHeadline(metric: string, value: number): Headline {
  const verdict = verdictFor(value, CODEC_GOAL, true);
  return {
    section: 'codec',
    metric,
    ours: '',
    peer: 'mqtt-packet 9',
    comparison: formatRatio(value),
    goal: `>= ${CODEC_GOAL}x`,
    verdict,
    shortfall: verdict === 'short' ? shortfallText(value, CODEC_GOAL) : undefined,
  };
}
