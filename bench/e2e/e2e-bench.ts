// End to end on the Node host over TLS against one emulator process: QoS 1 telemetry throughput with 1 and 16
// messages in flight, and the time and round trips from TLS established to ready behind a fixed-RTT relay,
// ours (the hub client) against Azure's official Node device SDK. A raw pre-encoded client shows the emulator's
// own ceiling.
import type { BenchConfig } from '../lib/config';
import { formatBytes, formatCount, formatMs, formatRatio, formatSummary } from '../lib/format';
import { randomBytes, seededRandom } from '../lib/rng';
import { shortfallText, verdictFor, type Headline, type SectionResult, type Table } from '../lib/report';
import { ratio, summarize } from '../lib/stats';
import { oursClient, sdkClient, type BenchClient, type Endpoint } from './clients';
import { startEmulatorChild, type EmulatorChild } from './emulator-child';
import { PacketTap } from './packet-tap';
import { rawClient } from './raw-ceiling';
import { measureRate } from './throughput';

export const TELEMETRY_GOAL = 3;
/**
 * CONNECT, SUBSCRIBE and the twin GET each wait for the hub's answer to the one before (the GET goes out on
 * the SUBACK: the hub does not promise to answer a request on a subscription it has not acknowledged), so 3
 * is the fewest round trips to ready. It was 2 while the GET was pipelined behind the SUBSCRIBE.
 */
export const READY_GOAL_ROUND_TRIPS = 3;

const DEVICES = { ours: 'bench-ours', sdk: 'bench-sdk', raw: 'bench-raw', ws: 'bench-ws', plain: 'bench-plain' } as const;
type Kind = 'ours' | 'sdk';

function endpointFor(emulator: EmulatorChild, deviceId: string, viaRelay: boolean): Endpoint {
  const info = emulator.info;
  return {
    hubHostName: info.hubHostName,
    port: viaRelay ? info.relayPort : info.hubPort,
    caPem: info.caPem,
    deviceId,
    key: info.keys[deviceId],
  };
}

function makeClient(kind: Kind, endpoint: Endpoint, tap?: PacketTap): BenchClient {
  return kind === 'ours' ? oursClient(endpoint, tap) : sdkClient(endpoint, tap);
}

interface ReadySample {
  elapsedMs: number;
  tripsByTime: number;
  tripsByPackets: number;
  bytesOut: number;
  bytesIn: number;
  sequence: string;
}

async function measureReady(kind: Kind, emulator: EmulatorChild, rttMs: number): Promise<ReadySample> {
  const tap = new PacketTap();
  const client = makeClient(kind, endpointFor(emulator, DEVICES[kind], true), tap);
  try {
    await client.start();
    await tap.ready(20_000 + 100 * rttMs);
  } finally {
    await client.stop();
  }
  const elapsedMs = tap.readyAt! - tap.secureAt!;
  const bytes = tap.bytesToReady();
  return {
    elapsedMs,
    tripsByTime: Math.round(elapsedMs / rttMs),
    tripsByPackets: tap.roundTripsToReady(),
    bytesOut: bytes.out,
    bytesIn: bytes.in,
    sequence: tap.describe(),
  };
}

export async function runE2eBench(config: BenchConfig): Promise<SectionResult> {
  const { e2e } = config;
  const emulator = await startEmulatorChild(e2e.rttMs / 2, Object.values(DEVICES));
  try {
    const ready = await readyPart(config, emulator);
    if (e2e.readyOnly) return { name: 'e2e', skipped: ['throughput (--ready-only)'], tables: [ready.table], headlines: ready.headlines };
    const throughput = await throughputPart(config, emulator);
    const ws = await webSocketPart(config, emulator);
    return {
      name: 'e2e',
      skipped: [],
      tables: [throughput.table, ready.table, ws.table],
      headlines: [...throughput.headlines, ...ready.headlines, ...ws.headlines],
    };
  } finally {
    await emulator.stop();
  }
}

async function readyPart(config: BenchConfig, emulator: EmulatorChild): Promise<{ table: Table; headlines: Headline[] }> {
  const { rttMs, readyRuns } = config.e2e;
  const samples: Record<Kind, ReadySample[]> = { ours: [], sdk: [] };
  // The first connection of each kind runs cold code on both ends (JIT, TLS contexts): not counted.
  for (const kind of ['ours', 'sdk'] as Kind[]) await measureReady(kind, emulator, rttMs);
  for (let run = 0; run < readyRuns; run++) {
    for (const kind of (run % 2 === 0 ? ['ours', 'sdk'] : ['sdk', 'ours']) as Kind[]) {
      samples[kind].push(await measureReady(kind, emulator, rttMs));
    }
  }
  const rows = (['ours', 'sdk'] as Kind[]).map((kind) => {
    const s = samples[kind];
    return [
      kind === 'ours' ? 'ours (hub client)' : 'azure-iot-device 1.18',
      formatSummary(summarize(s.map((x) => x.elapsedMs)), formatMs),
      formatSummary(summarize(s.map((x) => x.tripsByTime)), (v) => v.toFixed(0)),
      formatSummary(summarize(s.map((x) => x.tripsByPackets)), (v) => v.toFixed(0)),
      `${formatBytes(summarize(s.map((x) => x.bytesOut)).median)} / ${formatBytes(summarize(s.map((x) => x.bytesIn)).median)}`,
      s[s.length - 1].sequence,
    ];
  });
  const oursTrips = summarize(samples.ours.map((x) => x.tripsByTime)).median;
  const sdkTrips = summarize(samples.sdk.map((x) => x.tripsByTime)).median;
  const oursFlights = summarize(samples.ours.map((x) => x.tripsByPackets)).median;
  const sdkFlights = summarize(samples.sdk.map((x) => x.tripsByPackets)).median;
  const oursMs = summarize(samples.ours.map((x) => x.elapsedMs)).median;
  const sdkMs = summarize(samples.sdk.map((x) => x.elapsedMs)).median;
  const verdict = verdictFor(oursTrips, READY_GOAL_ROUND_TRIPS, false);
  return {
    table: {
      title: `Connect to ready over TLS with ${rttMs} ms round-trip time: median (min..max) of ${readyRuns} connections each`,
      header: ['client', 'TLS up to ready', 'round trips (time)', 'round trips (packets)', 'MQTT bytes out / in', 'client flights (> = waits for the hub)'],
      rows,
      notes: [
        `Ready = SUBACK for C2D, methods, twin responses and desired updates, and the twin GET answered. Timed from the TLS handshake's end (secureConnect / onConnect) to the packet that completes readiness.`,
        'Ours sends its twin GET when the SUBACK arrives (CONNECT > SUBSCRIBE > GET: three flights, each waiting for the hub), never pipelined behind the SUBSCRIBE: the hub does not promise to answer on a subscription it has not acknowledged.',
        `A relay in front of the emulator holds every TCP chunk ${rttMs / 2} ms each way. Round trips (time) = elapsed / ${rttMs} ms, rounded; round trips (packets) = client flights, each started by something heard from the hub.`,
        'Both clients do what an application needs: ours subscribes and reads the twin by itself; the SDK gets on(message), onDeviceMethod, getTwin and the twin\'s properties.desired listener.',
      ],
    },
    headlines: [
      {
        section: 'e2e',
        metric: `round trips from TLS up to ready, twin GET after SUBACK (${rttMs} ms RTT)`,
        ours: `${oursTrips.toFixed(0)} by time, ${oursFlights.toFixed(0)} by packets (${formatMs(oursMs)})`,
        peer: `${sdkTrips.toFixed(0)} by time, ${sdkFlights.toFixed(0)} by packets (${formatMs(sdkMs)})`,
        comparison: `${formatRatio(ratio(oursMs, sdkMs, 'lower'))} sooner`,
        goal: `<= ${READY_GOAL_ROUND_TRIPS} round trips (CONNACK, SUBACK, twin)`,
        verdict,
        shortfall: verdict === 'short' ? `${oursTrips.toFixed(0)} round trips instead of ${READY_GOAL_ROUND_TRIPS}` : undefined,
      },
    ],
  };
}

async function throughputPart(config: BenchConfig, emulator: EmulatorChild): Promise<{ table: Table; headlines: Headline[] }> {
  const { e2e } = config;
  const payload = randomBytes(seededRandom(config.seed ^ 0xe2e), e2e.payloadBytes);
  const clients: Record<Kind | 'raw', BenchClient> = {
    ours: oursClient(endpointFor(emulator, DEVICES.ours, false)),
    sdk: sdkClient(endpointFor(emulator, DEVICES.sdk, false)),
    raw: rawClient(endpointFor(emulator, DEVICES.raw, false)),
  };
  const rows: string[][] = [];
  const headlines: Headline[] = [];
  let index = 0;
  const send = (client: BenchClient) => (i: number) => client.send(payload, `m-${i}`);
  try {
    for (const client of Object.values(clients)) await client.start();
    // Warm-up: JIT, TLS buffers and the emulator's code paths, each client.
    for (const client of Object.values(clients)) {
      const warm = await measureRate(send(client), 16, Math.max(100, e2e.runMs / 4), index);
      index += warm.sent;
    }
    for (const window of e2e.windows) {
      const rates: Record<Kind | 'raw', number[]> = { ours: [], sdk: [], raw: [] };
      const cpu: Record<Kind | 'raw', number[]> = { ours: [], sdk: [], raw: [] };
      for (let run = 0; run < e2e.runs; run++) {
        const order: (Kind | 'raw')[] = run % 2 === 0 ? ['ours', 'sdk', 'raw'] : ['sdk', 'ours', 'raw'];
        for (const kind of order) {
          const result = await measureRate(send(clients[kind]), window, e2e.runMs, index);
          index += result.sent;
          rates[kind].push(result.perSecond);
          cpu[kind].push(result.cpuMicrosPerMessage);
        }
      }
      const ours = summarize(rates.ours);
      const sdk = summarize(rates.sdk);
      const raw = summarize(rates.raw);
      const oursCpu = summarize(cpu.ours);
      const sdkCpu = summarize(cpu.sdk);
      const r = ratio(ours.median, sdk.median, 'higher');
      const cpuRatio = ratio(oursCpu.median, sdkCpu.median, 'lower');
      const micros = (v: number): string => `${v.toFixed(0)} us`;
      rows.push([
        `${window} in flight`,
        formatSummary(ours),
        formatSummary(sdk),
        formatRatio(r),
        formatSummary(raw),
        formatRatio(ratio(raw.median, sdk.median, 'higher')),
        formatSummary(oursCpu, micros),
        formatSummary(sdkCpu, micros),
        formatRatio(cpuRatio),
      ]);
      const verdict = verdictFor(r, TELEMETRY_GOAL, true);
      headlines.push({
        section: 'e2e',
        metric: `QoS 1 telemetry msg/s, ${window} in flight`,
        ours: formatCount(ours.median),
        peer: formatCount(sdk.median),
        comparison: formatRatio(r),
        goal: `>= ${TELEMETRY_GOAL}x`,
        verdict,
        shortfall:
          verdict === 'short'
            ? `${shortfallText(r, TELEMETRY_GOAL)}; the emulator alone peaks at ${formatCount(raw.median)} msg/s, ${formatRatio(ratio(raw.median, sdk.median, 'higher'))} the SDK: no client can show more here`
            : undefined,
      });
      const cpuVerdict = verdictFor(cpuRatio, TELEMETRY_GOAL, true);
      headlines.push({
        section: 'e2e',
        metric: `client CPU per telemetry message, ${window} in flight`,
        ours: micros(oursCpu.median),
        peer: micros(sdkCpu.median),
        comparison: `${formatRatio(cpuRatio)} less`,
        goal: `>= ${TELEMETRY_GOAL}x less`,
        verdict: cpuVerdict,
        shortfall: cpuVerdict === 'short' ? shortfallText(cpuRatio, TELEMETRY_GOAL) : undefined,
      });
    }
  } finally {
    for (const client of Object.values(clients)) await client.stop().catch(() => undefined);
  }
  return {
    table: {
      title: `QoS 1 telemetry over TLS, messages per second: median (min..max) of ${e2e.runs} runs of ${e2e.runMs} ms`,
      header: ['window', 'ours msg/s', 'SDK msg/s', 'ours / SDK', 'emulator ceiling', 'ceiling / SDK', 'ours CPU/msg', 'SDK CPU/msg', 'SDK / ours CPU'],
      rows,
      notes: [
        `${e2e.payloadBytes} B seeded payload, $.mid, $.ct=application/json, $.ce=utf-8 and one application property on every message; each resolves on the hub's PUBACK.`,
        'Clients run in this process on one core; the emulator (aedes behind an MQTT-parsing tap) runs in its own process. Runs alternate between clients.',
        'emulator ceiling: pre-encoded PUBLISH bytes written to a bare TLS socket, PUBACKs counted: what the emulator can absorb. ceiling / SDK is the largest ours / SDK this set-up can show; a client near the ceiling is limited by the emulator.',
        'CPU/msg: this process\'s user + system CPU time per message during the run (the client, its TLS and its event loop; the emulator runs elsewhere). It measures the client itself, whatever the emulator\'s speed.',
      ],
    },
    headlines,
  };
}

/**
 * What MQTT over WebSockets costs over plain MQTT, both our hub client against the same emulator: bytes through
 * the TLS port per telemetry message (both ways: PUBLISH out, PUBACK in, with any WebSocket framing) and client
 * CPU per message, one message in flight. The peer here is plain MQTT: it is what WebSockets are the price of.
 */
async function webSocketPart(config: BenchConfig, emulator: EmulatorChild): Promise<{ table: Table; headlines: Headline[] }> {
  const { e2e } = config;
  const payload = randomBytes(seededRandom(config.seed ^ 0x3e5), e2e.payloadBytes);
  const counts = { plain: { out: 0, in: 0 }, ws: { out: 0, in: 0 } };
  const plainEndpoint = endpointFor(emulator, DEVICES.plain, false);
  const clients = {
    plain: oursClient(plainEndpoint, undefined, { count: counts.plain }),
    ws: oursClient({ ...endpointFor(emulator, DEVICES.ws, false), port: emulator.info.hubWsPort }, undefined, { webSocket: true, count: counts.ws }),
  };
  type Name = keyof typeof clients;
  const names: Name[] = ['plain', 'ws'];
  const cpu: Record<Name, number[]> = { plain: [], ws: [] };
  const bytes: Record<Name, { out: number[]; in: number[] }> = { plain: { out: [], in: [] }, ws: { out: [], in: [] } };
  let index = 0;
  try {
    for (const name of names) await clients[name].start();
    for (const name of names) index += (await measureRate((i) => clients[name].send(payload, `w-${i}`), 1, Math.max(100, e2e.runMs / 4), index)).sent;
    for (let run = 0; run < e2e.runs; run++) {
      for (const name of run % 2 === 0 ? names : [...names].reverse()) {
        const before = { ...counts[name] };
        const result = await measureRate((i) => clients[name].send(payload, `w-${i}`), 1, e2e.runMs, index);
        index += result.sent;
        cpu[name].push(result.cpuMicrosPerMessage);
        bytes[name].out.push((counts[name].out - before.out) / Math.max(1, result.sent));
        bytes[name].in.push((counts[name].in - before.in) / Math.max(1, result.sent));
      }
    }
  } finally {
    for (const name of names) await clients[name].stop().catch(() => undefined);
  }
  const micros = (v: number): string => `${v.toFixed(0)} us`;
  const b = (v: number): string => `${v.toFixed(1)} B`;
  const med = (v: number[]): number => summarize(v).median;
  const rows = names.map((name) => [
    name === 'plain' ? 'MQTT (8883)' : 'MQTT over WebSockets (443)',
    b(med(bytes[name].out)),
    b(med(bytes[name].in)),
    formatSummary(summarize(cpu[name]), micros),
  ]);
  const extraOut = med(bytes.ws.out) - med(bytes.plain.out);
  const extraIn = med(bytes.ws.in) - med(bytes.plain.in);
  const cpuRatio = med(cpu.ws) / Math.max(1e-9, med(cpu.plain));
  rows.push(['WebSockets cost', `+${b(extraOut)}`, `+${b(extraIn)}`, `${cpuRatio.toFixed(2)}x`]);
  return {
    table: {
      title: `MQTT over WebSockets against plain MQTT, our hub client, 1 in flight: median of ${e2e.runs} runs of ${e2e.runMs} ms`,
      header: ['transport', 'bytes out per message', 'bytes in per message', 'client CPU per message'],
      rows,
      notes: [
        `${e2e.payloadBytes} B payload with the same properties as above. Bytes are counted at the TLS port (inside TLS, below the WebSocket framing): PUBLISH out, PUBACK in, plus each frame's header (2-4 B, and a 4 B mask on what the client sends).`,
        'The WebSocket upgrade (one HTTP request and answer per connection) is not in the per-message figures.',
        'CPU: this process\'s user + system time per message (the client, its TLS, masking and the event loop); the emulator runs in its own process.',
      ],
    },
    headlines: [
      {
        section: 'e2e',
        metric: 'MQTT over WebSockets: extra bytes and CPU per telemetry message',
        ours: `+${b(extraOut)} out, +${b(extraIn)} in, ${micros(med(cpu.ws))}`,
        peer: `plain MQTT: ${b(med(bytes.plain.out))} out, ${micros(med(cpu.plain))}`,
        comparison: `${cpuRatio.toFixed(2)}x CPU`,
        goal: 'reported (no goal)',
        verdict: 'info',
      },
    ],
  };
}
