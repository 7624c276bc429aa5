// The one definition of what crosses between firmware running in the xsnap worker (XS) and the Node process
// that hosts it. Imported by both sides: the XS bundle (hosts/xsnap/*) and the Node test helper
// (tests/helpers/xs-host-bridge.ts).
//
// Two directions, both synchronous request/reply on the worker's pipes:
//   XS -> Node: `issueCommand(bytes)`; XS is blocked until Node replies. Used for everything XS cannot do
//               alone: the clock, arming timers, TLS sockets, HMAC, random bytes, logging, storage.
//   Node -> XS: `handleCommand(bytes)`, sent only while XS is idle. Used for what happens outside XS:
//               a timer fell due, the transport connected, bytes arrived, the socket closed; plus `app`
//               calls a test or program defines (start this scenario, read that result).
// Node never sends an event while XS is waiting on a request: events raised during a request (a transport
// that reports synchronously) are queued and delivered after the current command finishes.
//
// Encoding of one message (a JSON-shaped value that may hold Uint8Array anywhere):
//   u32 BE n | n bytes of UTF-8 JSON | then for each byte part: u32 BE length | the bytes
// In the JSON a Uint8Array is written as {"$bytes": i}, i indexing the parts after it, so certificates
// and MQTT frames travel as raw bytes, not as hex or base64. The key "$bytes" is reserved.
// `undefined` object fields are dropped, as JSON does.

import type { LogLevel, TlsConnectOptions, TransportCloseReason, TransportError } from '../../src/ports';
import { utf8Decode, utf8Encode } from './bridge-utf8';

export type BridgeValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | BridgeValue[]
  | { [key: string]: BridgeValue | undefined };

/** What XS asks of Node. Timer and connection ids are chosen by XS, unique per worker. */
export type XsRequest =
  | { op: 'now' }
  | { op: 'unix-ms' }
  | { op: 'timer-arm'; timer: number; ms: number }
  | { op: 'timer-cancel'; timer: number }
  | { op: 'connect'; conn: number; options: TlsConnectOptions }
  | { op: 'write'; conn: number; bytes: Uint8Array }
  | { op: 'close'; conn: number }
  | { op: 'hmac-sha256'; key: Uint8Array; data: Uint8Array }
  | { op: 'random-bytes'; length: number }
  | { op: 'log'; level: LogLevel; message: string }
  | { op: 'store-get'; key: string }
  | { op: 'store-set'; key: string; value: Uint8Array }
  | { op: 'store-delete'; key: string }
  | { op: 'store-keys' }
  /** Program-defined: results and progress a test wants to see while XS runs. */
  | { op: 'app'; name: string; data?: BridgeValue };

/** Node's answer to each request, by request op; any of them may instead be `{ error }` (see BridgeClient). */
export interface XsReplies {
  now: { ms: number };
  'unix-ms': { ms?: number };
  'timer-arm': { ok: true };
  'timer-cancel': { ok: true };
  connect: { ok: true };
  write: { accepted: boolean };
  close: { ok: true };
  'hmac-sha256': { bytes: Uint8Array };
  'random-bytes': { bytes: Uint8Array };
  log: { ok: true };
  'store-get': { value?: Uint8Array };
  'store-set': { ok: true };
  'store-delete': { ok: true };
  'store-keys': { keys: string[] };
  app: { data?: BridgeValue };
}

/** What Node tells XS. */
export type XsEvent =
  | { op: 'timer-fire'; timer: number }
  | { op: 'transport-connect'; conn: number }
  | { op: 'transport-data'; conn: number; bytes: Uint8Array }
  | { op: 'transport-writable'; conn: number }
  | { op: 'transport-error'; conn: number; error: TransportError }
  | { op: 'transport-close'; conn: number; reason: TransportCloseReason }
  /** Program-defined: call the handler registered under `name` in XS; its result comes back as `data`. */
  | { op: 'app'; name: string; data?: BridgeValue };

/** XS's answer to every event; `error` when XS could not handle it (the Node side turns that into a throw). */
export interface XsEventReply {
  data?: BridgeValue;
  error?: string;
}

export class BridgeFormatError extends Error {
  override readonly name = 'BridgeFormatError';
}

const BYTES_KEY = '$bytes';

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 255;
  target[at + 2] = (value >>> 8) & 255;
  target[at + 3] = value & 255;
}

function readU32(source: Uint8Array, at: number): number {
  return ((source[at] << 24) >>> 0) + (source[at + 1] << 16) + (source[at + 2] << 8) + source[at + 3];
}

export function encodeBridgeMessage(value: BridgeValue | XsRequest | XsEvent | object): Uint8Array {
  const parts: Uint8Array[] = [];
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Uint8Array) {
      parts.push(item);
      return { [BYTES_KEY]: parts.length - 1 };
    }
    return item;
  });
  const header = utf8Encode(json);
  let size = 4 + header.length;
  for (const part of parts) size += 4 + part.length;
  const out = new Uint8Array(size);
  writeU32(out, 0, header.length);
  out.set(header, 4);
  let at = 4 + header.length;
  for (const part of parts) {
    writeU32(out, at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

export function decodeBridgeMessage<T = BridgeValue>(bytes: Uint8Array): T {
  if (bytes.length < 4) throw new BridgeFormatError(`bridge message too short (${bytes.length} bytes)`);
  const headerLength = readU32(bytes, 0);
  if (4 + headerLength > bytes.length) {
    throw new BridgeFormatError(`bridge message header says ${headerLength} bytes, only ${bytes.length - 4} present`);
  }
  const parts: Uint8Array[] = [];
  for (let at = 4 + headerLength; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new BridgeFormatError('bridge message ends inside a part length');
    const length = readU32(bytes, at);
    if (at + 4 + length > bytes.length) throw new BridgeFormatError(`bridge message part ${parts.length} is cut short`);
    // Views, not copies: every message is a buffer of its own that nobody changes once it is sent.
    parts.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const text = utf8Decode(bytes.subarray(4, 4 + headerLength));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, item: unknown) => {
      if (typeof item === 'object' && item !== null && !Array.isArray(item) && BYTES_KEY in item) {
        const index = (item as Record<string, unknown>)[BYTES_KEY];
        if (typeof index !== 'number' || parts[index] === undefined) {
          throw new BridgeFormatError(`bridge message refers to byte part ${String(index)} of ${parts.length}`);
        }
        return parts[index];
      }
      return item;
    });
  } catch (error) {
    if (error instanceof BridgeFormatError) throw error;
    throw new BridgeFormatError('bridge message header is not JSON');
  }
  return parsed as T;
}

/** The ArrayBuffer XS's issueCommand/handleCommand exchange, holding exactly these bytes (copied only for a part view). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
