// The opening handshake of RFC 6455 section 4, client side: the GET that asks for an upgrade, and the check of the
// server's answer. The server must answer 101 with `Upgrade: websocket`, `Connection: Upgrade`, the
// Sec-WebSocket-Accept that proves it read our key (base64 of SHA-1 of key + the RFC's GUID), the subprotocol we
// asked for, and no extension we did not offer. Anything else fails the connection (section 4.1).

import { sha1 } from '../crypto/sha1';
import { base64Encode } from '../encoding/base64';
import { utf8Decode, utf8Encode } from '../encoding/utf8';
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

/** Checks the whole answer header (`bytes` up to CRLF CRLF); the failure names what is wrong. */
export function checkUpgradeAnswer(bytes: Uint8Array, key: string, protocol: string): Result<true, string> {
  const text = utf8Decode(bytes);
  if (text === undefined) return err('upgrade answer is not text');
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
  if (status === null) return err('upgrade answer is not HTTP/1.1');
  if (status[1] !== '101') return err(`upgrade refused: HTTP ${status[1]}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if ((headers['upgrade'] ?? '').toLowerCase() !== 'websocket') return err('upgrade answer: Upgrade is not websocket');
  const connection = (headers['connection'] ?? '').toLowerCase().split(',');
  if (!connection.some((token) => token.trim() === 'upgrade')) return err('upgrade answer: Connection lacks upgrade');
  if (headers['sec-websocket-accept'] !== acceptFor(key)) return err('upgrade answer: Sec-WebSocket-Accept does not match the key');
  if (headers['sec-websocket-protocol'] !== protocol) return err(`upgrade answer: Sec-WebSocket-Protocol is not ${protocol}`);
  if (headers['sec-websocket-extensions'] !== undefined) return err('upgrade answer: Sec-WebSocket-Extensions that were not offered');
  return ok(true);
}
