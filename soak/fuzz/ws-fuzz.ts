// Fuzzes the WebSocket client (src/ws) the way a hostile or broken server would hit it: after a 101 answer (valid,
// or mutated), a stream of server frames: binary, fragmented with continuations, Ping/Pong, Close with valid and
// bad codes, text, masked (forbidden from a server), oversized, non-minimal lengths; then byte mutations. Each
// input goes through the whole transport over a scripted TLS connection, fed whole and in random chunks.
// Properties checked for every input:
//   - nothing throws out of the transport;
//   - bounded time per input;
//   - chunking does not matter: the same bytes reach MQTT, the same frames are written back, the same close;
//   - onClose comes at most once, and nothing reaches MQTT after it;
//   - no payload byte of a frame over the limit reaches MQTT (data passed on is at most what frames under the
//     limit carried), and every frame written back is a well-formed masked client frame with a valid close code.

import { ScriptedTransportFactory } from '../../hosts/virtual/scripted-transport';
import type { TransportCloseReason } from '../../src/ports';
import { isValidCloseCode } from '../../src/ws/ws-frames';
import { acceptFor } from '../../src/ws/ws-handshake';
import { webSocketTransport } from '../../src/ws/ws-transport';
import { Rng } from '../lib/rng';
import { addFailure, countCode, emptyStats, hexOf, nowMs, type FuzzStats } from './fuzz-report';
import { concatBytes, mutateBytes } from './mutate';

export interface WsFuzzOptions {
  seed: number;
  inputs: number;
  maxInputMs?: number;
}

const KEY_BYTES = new Uint8Array(16).map((_, i) => i * 17);
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const MAX_FRAME = 4096;

function randomBytes(n: number, first: { done: boolean }): Uint8Array {
  if (!first.done) {
    first.done = true;
    return KEY_BYTES.subarray(0, n);
  }
  return MASK.subarray(0, n);
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function frame(first: number, payload: Uint8Array, rng: Rng, masked = false, lengthForm?: number): Uint8Array {
  const n = payload.length;
  const form = lengthForm ?? (n < 126 ? 0 : n < 65536 ? 126 : 127);
  const head: number[] = [first];
  const m = masked ? 0x80 : 0;
  if (form === 0) head.push(m | n);
  else if (form === 126) head.push(m | 126, n >> 8, n & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const body = payload.slice();
  if (masked) {
    const k = rng.bytes(4);
    head.push(...k);
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ k[i & 3]!;
  }
  return concatBytes([new Uint8Array(head), body]);
}

function closeBody(code: number, reason: Uint8Array): Uint8Array {
  return concatBytes([new Uint8Array([code >> 8, code & 0xff]), reason]);
}

/** One server frame of a random kind; `oversized` frames claim more than MAX_FRAME. */
function randomFrame(rng: Rng, inMessage: { open: boolean }): Uint8Array {
  const kind = rng.int(0, 11);
  const data = (max: number): Uint8Array => rng.bytes(rng.int(0, max));
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      // Binary, maybe the start of a fragmented message.
      const fin = rng.chance(0.6);
      const f = frame((fin ? 0x80 : 0) | (inMessage.open ? 0 : 2), data(rng.chance(0.1) ? 3000 : 200), rng);
      inMessage.open = !fin;
      return f;
    }
    case 3:
      return frame(0x89, data(125), rng);
    case 4:
      return frame(0x8a, data(125), rng);
    case 5: {
      const code = rng.pick([1000, 1001, 1002, 1003, 1011, 3000, 4999, 0, 999, 1004, 1005, 1006, 1015, 2000, 5000, 65535]);
      const reason = rng.chance(0.2) ? new Uint8Array([0xc3, 0x28]) : ascii('bye');
      return frame(0x88, rng.chance(0.1) ? new Uint8Array([3]) : closeBody(code, reason), rng);
    }
    case 6:
      return frame(0x81, ascii('text'), rng);
    case 7:
      return frame(0x82, data(50), rng, true);
    case 8: {
      // Oversized: a header claiming more than the limit, followed by some of the bytes.
      const claimed = MAX_FRAME + rng.int(1, 100000);
      return concatBytes([new Uint8Array([0x82, 127, 0, 0, 0, 0, (claimed >>> 24) & 0xff, (claimed >>> 16) & 0xff, (claimed >>> 8) & 0xff, claimed & 0xff]), data(300)]);
    }
    case 9:
      return frame(0x82, data(20), rng, false, rng.pick([126, 127]));
    case 10:
      return frame(rng.pick([0x83, 0x8b, 0xc2, 0x09, 0x80]), data(10), rng);
    default:
      return frame(0x82, data(100), rng);
  }
}

interface Outcome {
  data: Uint8Array[];
  written: Uint8Array[];
  closes: TransportCloseReason[];
  dataAfterClose: boolean;
}

function run(input: Uint8Array, chunks: Uint8Array[] | undefined): Outcome {
  const tls = new ScriptedTransportFactory();
  const first = { done: false };
  const ws = webSocketTransport(tls, (n) => randomBytes(n, first), { maxFrameBytes: MAX_FRAME });
  const out: Outcome = { data: [], written: [], closes: [], dataAfterClose: false };
  ws.connect(
    { host: 'hub.example.net', port: 443, trustedCAs: [] },
    {
      onConnect: () => {},
      onData: (chunk) => {
        if (out.closes.length > 0) out.dataAfterClose = true;
        out.data.push(chunk.slice());
      },
      onWritable: () => {},
      onError: () => {},
      onClose: (reason) => void out.closes.push(reason),
    },
  );
  const conn = tls.last;
  conn.open();
  for (const chunk of chunks ?? [input]) conn.push(chunk);
  out.written = conn.written.slice(1);
  return out;
}

/** Checks one client frame: masked, FIN, known opcode, a valid close code; returns a problem or undefined. */
function clientFrameProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 6) return 'shorter than a masked header';
  const opcode = bytes[0]! & 0x0f;
  if ((bytes[1]! & 0x80) === 0) return 'not masked';
  if ((bytes[0]! & 0x70) !== 0) return 'RSV bits set';
  if (![0x2, 0x8, 0x9, 0xa].includes(opcode)) return `opcode ${opcode}`;
  const n = bytes[1]! & 0x7f;
  if (opcode === 0x8 && n >= 2) {
    const code = ((bytes[6]! ^ MASK[0]!) << 8) | (bytes[7]! ^ MASK[1]!);
    if (!isValidCloseCode(code)) return `close code ${code}`;
  }
  return undefined;
}

function joined(parts: Uint8Array[]): string {
  return hexOf(concatBytes(parts), 1 << 30);
}

export function fuzzWebSocket(options: WsFuzzOptions): FuzzStats {
  const rng = new Rng(options.seed);
  const maxInputMs = options.maxInputMs ?? 250;
  const stats = emptyStats(options.seed);
  const key = base64(KEY_BYTES);
  const good = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  const started = nowMs();
  for (let i = 0; i < options.inputs; i++) {
    const frames: Uint8Array[] = [];
    const inMessage = { open: false };
    const count = rng.int(1, 8);
    // Where the first oversized frame starts in the unmutated stream: nothing from there on may reach MQTT.
    let oversizedAt = -1;
    let offset = 0;
    for (let f = 0; f < count; f++) {
      const next = randomFrame(rng, inMessage);
      if (oversizedAt < 0 && next[0] === 0x82 && next[1] === 127 && next.length >= 10 && (next[6]! << 24) + (next[7]! << 16) + (next[8]! << 8) + next[9]! > MAX_FRAME) oversizedAt = offset;
      offset += next.length;
      frames.push(next);
    }
    const stream = concatBytes(frames);
    // Mostly the frames are mutated, sometimes the answer too, sometimes nothing.
    const answer = rng.chance(0.05) ? mutateBytes(ascii(good), rng) : ascii(good);
    const body = rng.chance(0.7) ? mutateBytes(stream, rng) : stream;
    const input = concatBytes([answer, body]);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < input.length; ) {
      const size = rng.chance(0.3) ? 1 : rng.int(1, 64);
      chunks.push(input.slice(at, at + size));
      at += size;
    }
    const fail = (property: string, detail: string): void => addFailure(stats, { property, target: 'websocket client', detail: `input ${i}: ${detail}`, input: hexOf(input) });
    stats.inputs++;
    const t0 = nowMs();
    let whole: Outcome;
    let chunked: Outcome;
    try {
      whole = run(input, undefined);
      chunked = run(input, chunks);
    } catch (error) {
      fail('exception', `threw ${String(error)}`);
      continue;
    }
    const elapsed = nowMs() - t0;
    if (elapsed > stats.slowestInputMs) stats.slowestInputMs = elapsed;
    if (elapsed > maxInputMs) fail('slow', `took ${elapsed.toFixed(1)} ms`);
    if (joined(whole.data) !== joined(chunked.data)) fail('chunking', 'different bytes reached MQTT');
    if (joined(whole.written) !== joined(chunked.written)) fail('chunking', 'different frames written back');
    if (JSON.stringify(whole.closes) !== JSON.stringify(chunked.closes)) fail('chunking', `closes ${JSON.stringify(whole.closes)} vs ${JSON.stringify(chunked.closes)}`);
    for (const o of [whole, chunked]) {
      if (o.closes.length > 1) fail('close-once', `${o.closes.length} onClose calls`);
      if (o.dataAfterClose) fail('after-close', 'data reached MQTT after onClose');
      for (const w of o.written) {
        const problem = clientFrameProblem(w);
        if (problem !== undefined) fail('client-frame', `wrote ${hexOf(w, 32)}: ${problem}`);
      }
    }
    const delivered = whole.data.reduce((n, c) => n + c.length, 0);
    if (delivered > body.length) fail('delivered', `${delivered} bytes passed on from ${body.length} bytes of frames`);
    const close = whole.closes[0];
    const message = close?.message ?? '';
    if (body === stream && oversizedAt >= 0 && delivered > oversizedAt) fail('oversized', `${delivered} bytes passed on; the oversized frame starts at ${oversizedAt}`);
    if (delivered > 0 || close === undefined || close.by === 'peer') stats.accepted++;
    else stats.rejected++;
    const code = close === undefined ? 'open' : close.by === 'peer' ? 'peer-close' : message.replace(/^websocket: /, '').replace(/\d+/g, 'N').slice(0, 60);
    countCode(stats, code);
  }
  stats.elapsedMs = nowMs() - started;
  return stats;
}
