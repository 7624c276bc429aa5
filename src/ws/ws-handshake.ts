// The opening handshake of RFC 6455 section 4, client side: the GET that asks for an upgrade, and the check of the
// server's answer. The server must answer 101 with `Upgrade: websocket`, `Connection: Upgrade`, the
// Sec-WebSocket-Accept that proves it read our key (base64 of SHA-1 of key + the RFC's GUID), the subprotocol we
// asked for, and no extension we did not offer. Anything else fails the connection (section 4.1).

import { sha1 } from '../crypto/sha1';
import { base64Encode } from '../encoding/base64';
import { utf8Encode } from '../encoding/utf8';
import { err, ok, type Result } from '../result';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The answer's Sec-WebSocket-Accept for the key we sent (section 4.2.2, step 5.4). */
export function acceptFor(key: string): string {
  return base64Encode(sha1(utf8Encode(key + GUID)));
}

export interface UpgradeRequest {
  /** Host header: the server name, with `:port` unless 443. */
  host: string;
  port: number;
  path: string;
  /** base64 of 16 random bytes. */
  key: string;
  protocol: string;
}

export function upgradeRequest(r: UpgradeRequest): Uint8Array {
  const host = r.port === 443 ? r.host : `${r.host}:${r.port}`;
  return utf8Encode(
    `GET ${r.path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${r.key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${r.protocol}\r\n\r\n`,
  );
}

/** Where the answer's header ends (the index after CRLF CRLF), or -1 while it has not all arrived. */
export function headerEnd(bytes: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** The header line at `[from, to)` as text, or undefined when it holds a byte outside printable ASCII. */
function asciiLine(bytes: Uint8Array, from: number, to: number): string | undefined {
  let line = '';
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e) {
      if (b !== 0x09) return undefined;
    }
    line += String.fromCharCode(b);
  }
  return line;
}

/**
 * Checks the whole answer header (`bytes` up to CRLF CRLF), a line at a time (nothing but the line in hand is
 * held as text: a device heap counts every string); the failure names what is wrong.
 */
export function checkUpgradeAnswer(bytes: Uint8Array, key: string, protocol: string): Result<true, string> {
  let upgrade = false;
  let connection = false;
  let accept: string | undefined;
  let chosen: string | undefined;
  let extensions = false;
  let at = 0;
  for (let lineNo = 0; at < bytes.length; lineNo++) {
    let end = at;
    while (end < bytes.length && !(bytes[end] === 13 && bytes[end + 1] === 10)) end++;
    const line = asciiLine(bytes, at, end);
    at = end + 2;
    if (line === undefined) return err('upgrade answer is not text');
    if (lineNo === 0) {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(line);
      if (status === null) return err('upgrade answer is not HTTP/1.1');
      if (status[1] !== '101') return err(`upgrade refused: HTTP ${status[1]}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'upgrade') upgrade = value.toLowerCase() === 'websocket';
    else if (name === 'connection') connection = /(^|,)\s*upgrade\s*(,|$)/i.test(value);
    else if (name === 'sec-websocket-accept') accept = value;
    else if (name === 'sec-websocket-protocol') chosen = value;
    else if (name === 'sec-websocket-extensions') extensions = true;
  }
  if (!upgrade) return err('upgrade answer: Upgrade is not websocket');
  if (!connection) return err('upgrade answer: Connection lacks upgrade');
  if (accept !== acceptFor(key)) return err('upgrade answer: Sec-WebSocket-Accept does not match the key');
  if (chosen !== protocol) return err(`upgrade answer: Sec-WebSocket-Protocol is not ${protocol}`);
  if (extensions) return err('upgrade answer: Sec-WebSocket-Extensions that were not offered');
  return ok(true);
}
