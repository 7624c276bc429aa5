// Runs inside the real XS engine (bundled by storage-xs.test.ts). The command carries the roots: for each,
// u8 name length, name (ASCII), u32 DER length, DER. The reply is the battery transcript.

import { utf8Encode } from '../../src/encoding/utf8';
import type { NamedRoot } from '../../src/trust/trust-store';
import { runStorageBattery } from './storage-battery';

(globalThis as unknown as { handleCommand: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
  const bytes = new Uint8Array(message);
  const roots: NamedRoot[] = [];
  let at = 0;
  while (at < bytes.length) {
    const nameLength = bytes[at++]!;
    const name = String.fromCharCode(...bytes.subarray(at, at + nameLength));
    at += nameLength;
    const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    at += 4;
    roots.push({ name, der: bytes.slice(at, at + length) });
    at += length;
  }
  const reply = utf8Encode(runStorageBattery(roots).join('\n'));
  return reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.length) as ArrayBuffer;
};
