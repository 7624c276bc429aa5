// Runs inside the real XS engine (xsnap), bundled by xs-bench.ts. Each command is one JSON request; the worker's
// meter for that command (compute, heap) is the measurement, so each command does exactly the work measured.
//   setup                      -> a hub client on a loopback hub, connected, subscribed, twin read
//   publish {count, size}      -> `count` QoS 1 telemetry messages, one at a time, each awaited to its PUBACK
//   prepareMethods {count}     -> method-call packets built ahead (not measured)
//   methods {count}            -> that many direct-method calls answered by the client
//   sas {count, hmac}          -> SAS tokens, with the pure-JS HMAC ('js') or a constant one ('none')
//   topic / encode / puback {count, size} -> the pieces of a publish on their own (telemetry topic with its
//                                 property bag, PUBLISH encoding, PUBACK framing and decoding)
//   gc                         -> a full garbage collection, so the meter's heap count is live slots only
import { buildHubSasToken } from '../../src/azure/sas-token';
import { telemetryTopic } from '../../src/azure/telemetry-topic';
import { TelemetryTopicCache } from '../../src/hub/telemetry-topic-cache';
import { encodePublish } from '../../src/mqtt/encode';
import { MqttStreamParser } from '../../src/mqtt/stream-parser';
import { utf8Decode, utf8Encode } from '../../src/encoding/utf8';
import { HubClient } from '../../src/hub';
import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { hmacSha256 } from '../../tests/helpers/hmac-sha256';
import { LoopbackHub, methodCallPacket } from './loopback-hub';

interface Request {
  op: string;
  count?: number;
  size?: number;
  hmac?: 'js' | 'none';
}

type Reply = Record<string, number | string | boolean>;

const HOST = 'bench-hub.azure-devices.net';
const DEVICE = 'bench-device-01';
const KEY = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=';
const NOW_MS = 1_700_000_000_000;

const scope = globalThis as unknown as {
  handleCommand?: (message: ArrayBuffer) => ArrayBuffer | { result: ArrayBuffer };
  gc?: () => void;
};

let hub: LoopbackHub | undefined;
let client: HubClient | undefined;
let methodPackets: Uint8Array[] = [];
let sent = 0;
let seed = 1;

function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}

async function setup(): Promise<Reply> {
  hub = new LoopbackHub();
  client = new HubClient(
    {
      transport: hub,
      timers: new VirtualClock(0),
      clock: { unixMs: () => NOW_MS },
      crypto: { hmacSha256, randomBytes: (n) => Uint8Array.from({ length: n }, () => (random() * 256) | 0) },
    },
    { credentials: { kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key: KEY } }, trustedCAs: [new Uint8Array([0x30, 0])] },
  );
  client.onMethod('reboot', (call) => ({ status: 200, payload: { accepted: true, rid: call.rid } }));
  await client.connect();
  // Let the SUBACK and the twin answer arrive: a few rounds of promise jobs.
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return { state: client.state, connections: hub.connections };
}

async function publish(count: number, size: number): Promise<Reply> {
  const c = requireClient();
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
  const before = hub!.telemetryBytes;
  for (let i = 0; i < count; i++) {
    await c.sendTelemetry(payload, {
      systemProperties: { messageId: `m-${sent++}`, contentType: 'application/json', contentEncoding: 'utf-8' },
      properties: { temperatureAlert: 'true' },
    });
  }
  return { sent: count, wireBytes: hub!.telemetryBytes - before };
}

function prepareMethods(count: number): Reply {
  methodPackets = [];
  for (let i = 0; i < count; i++) methodPackets.push(methodCallPacket('reboot', i + 1, '{"delaySeconds":5}'));
  return { prepared: count };
}

async function methods(count: number): Promise<Reply> {
  requireClient();
  const packets = methodPackets.splice(0, count);
  for (const packet of packets) await hub!.callMethod(packet);
  return { answered: packets.length, replies: hub!.methodReplies };
}

function sas(count: number, withHmac: boolean): Reply {
  const hmac = withHmac ? hmacSha256 : () => new Uint8Array(32);
  let length = 0;
  for (let i = 0; i < count; i++) {
    const token = buildHubSasToken({ hostName: HOST, deviceId: DEVICE, key: KEY, expiryUnixSeconds: 1_700_003_600 + i }, hmac);
    if (!token.ok) throw new Error(token.error.message);
    length += token.value.length;
  }
  return { tokens: count, length };
}

/** The topic as the hub client builds it: through its cache, so only the message id changes per message. */
function topicPiece(count: number): Reply {
  let length = 0;
  const cache = new TelemetryTopicCache();
  for (let i = 0; i < count; i++) {
    const topic = cache.topic({
      deviceId: DEVICE,
      messageId: `m-${i}`,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      properties: { temperatureAlert: 'true' },
    });
    if (topic.ok) length += topic.value.length;
  }
  return { length };
}

function encodePiece(count: number, size: number): Reply {
  const topic = telemetryTopic({ deviceId: DEVICE, messageId: 'm-1', contentType: 'application/json', contentEncoding: 'utf-8', properties: { temperatureAlert: 'true' } });
  if (!topic.ok) throw new Error(topic.error.message);
  const payload = new Uint8Array(size);
  let length = 0;
  for (let i = 0; i < count; i++) length += encodePublish(topic.value, payload, 1, false, false, (i % 65535) + 1).length;
  return { length };
}

function pubackPiece(count: number): Reply {
  const parser = new MqttStreamParser();
  const bytes = new Uint8Array([0x40, 2, 0x12, 0x34]);
  let packets = 0;
  for (let i = 0; i < count; i++) packets += parser.push(bytes).length;
  return { packets };
}

function requireClient(): HubClient {
  if (client === undefined || hub === undefined) throw new Error('run setup first');
  return client;
}

function encodeReply(reply: Reply): ArrayBuffer {
  const bytes = utf8Encode(JSON.stringify(reply));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

scope.handleCommand = (message) => {
  const request = JSON.parse(utf8Decode(new Uint8Array(message)) ?? '{}') as Request;
  const count = request.count ?? 1;
  const box = { result: encodeReply({ error: `${request.op} had not finished when XS went idle` }) };
  const finish = (work: Reply | Promise<Reply>): { result: ArrayBuffer } => {
    Promise.resolve(work).then(
      (reply) => (box.result = encodeReply(reply)),
      (error: unknown) => (box.result = encodeReply({ error: errorText(error) })),
    );
    return box;
  };
  switch (request.op) {
    case 'setup':
      return finish(setup());
    case 'publish':
      return finish(publish(count, request.size ?? 16));
    case 'prepareMethods':
      return finish(prepareMethods(count));
    case 'methods':
      return finish(methods(count));
    case 'sas':
      return finish(sas(count, request.hmac !== 'none'));
    case 'topic':
      return finish(topicPiece(count));
    case 'encode':
      return finish(encodePiece(count, request.size ?? 16));
    case 'puback':
      return finish(pubackPiece(count));
    case 'gc':
      scope.gc?.();
      return encodeReply({ gc: typeof scope.gc === 'function' });
    default:
      return encodeReply({ error: `unknown op ${request.op}` });
  }
};
