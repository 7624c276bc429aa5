// Fuzzes the modem's AT reader and dialogue (src/modem) with mutated SLM answer streams: lines, URCs, #XRECV
// blocks, noise, fed whole and in random chunks. Properties checked for every input:
//   - nothing throws out of the reader, the channel or the SLM parsers;
//   - bounded time per input;
//   - no line handed on is longer than maxLineBytes, no block bigger than maxDataBytes;
//   - chunking does not matter: whole and chunked feeding give the same lines, blocks and refusals;
//   - the channel ends every command exactly once (an answer, an error or its timeout), whatever arrives.

import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { AtChannel } from '../../src/modem/at-channel';
import { AtReader } from '../../src/modem/at-reader';
import * as slm from '../../src/modem/slm';
import type { SerialPortEvents } from '../../src/ports';
import { Rng } from '../lib/rng';
import { addFailure, countCode, emptyStats, hexOf, nowMs, type FuzzStats } from './fuzz-report';
import { concatBytes, mutateBytes } from './mutate';

export interface AtFuzzOptions {
  seed: number;
  inputs: number;
  maxInputMs?: number;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);

const LINES = [
  'OK', 'ERROR', '+CME ERROR: 513', '+CME ERROR: 518', '#XSSOCKET: 2,1,258', '#XSSOCKET: -1,1,258', '#XCONNECT: 1', '#XCONNECT: 0',
  '#XPOLL: 0,"0x0001"', '#XPOLL: 0,"0x0011"', '#XPOLL: 2,"0x0008"', '#XSOCKET: 0,"closed"', '+CEREG: 1,"002F","0012BEEF",7',
  '+CEREG: 5,1,"002F","0012BEEF",7,,,"00100001","00000110"', '+CEREG: 2', '+CEREG: 4', '+CESQ: 99,99,255,255,31,62', '#XDATAMODE: 0',
  '%CMNG: 16842753,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"', '#XSEND: 8',
];

/** A plausible SLM answer stream: framed lines, URCs and #XRECV blocks with their final OK. */
function randomStream(rng: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  const count = rng.int(1, 8);
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.25)) {
      const size = rng.chance(0.1) ? rng.int(2000, 5000) : rng.int(0, 300);
      const block = new Uint8Array(size);
      for (let k = 0; k < size; k++) block[k] = rng.int(0, 255);
      parts.push(ascii(`\r\n#XRECV: ${size}\r\n`), block, ascii('\r\nOK\r\n'));
    } else {
      parts.push(ascii(`\r\n${LINES[rng.int(0, LINES.length - 1)]!}\r\n`));
    }
  }
  return concatBytes(parts);
}

function chunks(bytes: Uint8Array, rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = rng.chance(0.3) ? 1 : rng.int(1, Math.max(1, Math.min(64, bytes.length - at)));
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

function readAll(parts: Uint8Array[], maxLineBytes: number, maxDataBytes: number, check: (problem: string) => void): string[] {
  const events: string[] = [];
  let blockBytes = 0;
  const reader = new AtReader({ maxLineBytes, maxDataBytes }, {
    line: (text) => {
      if (text.length > maxLineBytes) check(`a line of ${text.length} bytes passed the ${maxLineBytes}-byte limit`);
      // The parsers meet every line a modem can send.
      slm.parseCereg(text);
      slm.socketHandle([text]);
      slm.pollEvents([text], 0);
      slm.parseCesq([text]);
      events.push(`l:${text}`);
    },
    data: (bytes, last) => {
      blockBytes += bytes.length;
      if (blockBytes > maxDataBytes) check(`a block of ${blockBytes} bytes passed the ${maxDataBytes}-byte limit`);
      if (last) {
        events.push(`d:${blockBytes}`);
        blockBytes = 0;
      }
    },
    refused: (reason) => void events.push(`r:${reason}`),
  });
  for (const part of parts) reader.push(part);
  return events;
}

/** Runs three commands against the stream and a virtual clock; each must end exactly once. */
function dialogue(parts: Uint8Array[], rng: Rng, check: (problem: string) => void): number {
  const clock = new VirtualClock();
  let port: SerialPortEvents | undefined;
  const channel = new AtChannel(
    { open: (events) => ((port = events), { write: () => true, close: () => undefined }) },
    clock,
    { maxLineBytes: 128, maxDataBytes: 1024, dataModeDelayMs: 1, maxQueued: 4 },
    { urc: () => undefined, refused: () => undefined, closed: () => undefined },
  );
  channel.open();
  const ends = [0, 0, 0];
  const prefixes = ['#XSSOCKET:', '#XRECV:', '#XPOLL:'];
  for (let i = 0; i < 3; i++) {
    channel.run({ line: `AT${i}`, prefix: prefixes[i]!, timeoutMs: 100, ...(rng.chance(0.3) ? { payload: new Uint8Array(3) } : {}) }, () => void ends[i]!++);
  }
  for (const part of parts) {
    clock.advance(rng.int(0, 3));
    port!.onData(part);
  }
  clock.advance(1000);
  if (ends.some((n) => n !== 1)) check(`commands ended ${ends.join('/')} times`);
  return channel.refusedCount;
}

export function fuzzAtParser(options: AtFuzzOptions): FuzzStats {
  const rng = new Rng(options.seed);
  const maxInputMs = options.maxInputMs ?? 250;
  const stats = emptyStats(options.seed);
  const donors: Uint8Array[] = [];
  const started = nowMs();
  for (let i = 0; i < options.inputs; i++) {
    const valid = randomStream(rng);
    const input = rng.chance(0.85) ? mutateBytes(valid, rng, donors) : valid;
    if (donors.length < 64) donors.push(valid);
    else donors[rng.int(0, 63)] = valid;
    const maxLineBytes = rng.chance(0.7) ? 256 : rng.int(1, 64);
    const maxDataBytes = rng.chance(0.7) ? 4096 : rng.int(0, 512);
    stats.inputs++;
    const fail = (property: string, detail: string): void =>
      addFailure(stats, { property, target: 'AT reader', detail: `input ${i}, limits ${maxLineBytes}/${maxDataBytes}: ${detail}`, input: hexOf(input) });
    const t0 = nowMs();
    try {
      const whole = readAll([input.slice()], maxLineBytes, maxDataBytes, (p) => fail('bound', p));
      const split = readAll(chunks(input, rng), maxLineBytes, maxDataBytes, (p) => fail('bound', p));
      if (whole.join('\n') !== split.join('\n')) fail('chunking', `whole gave ${whole.length} events, chunks ${split.length}`);
      const refused = dialogue(chunks(input, rng), rng, (p) => fail('dialogue', p));
      if (whole.some((e) => e.startsWith('l:'))) stats.accepted++;
      else stats.rejected++;
      for (const e of whole) if (e.startsWith('r:')) countCode(stats, e.slice(2));
      if (refused > 0) countCode(stats, 'dialogue-refusals');
    } catch (error) {
      fail('exception', `threw ${String(error)}`);
      continue;
    }
    const elapsed = nowMs() - t0;
    if (elapsed > stats.slowestInputMs) stats.slowestInputMs = elapsed;
    if (elapsed > maxInputMs) fail('slow', `took ${elapsed.toFixed(1)} ms`);
  }
  stats.elapsedMs = nowMs() - started;
  return stats;
}
