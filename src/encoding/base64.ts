// Standard base64 (RFC 4648 section 4, with padding). XS lacks atob/btoa and Node's byte buffers, so we carry our own.
// Decoding is strict on purpose: keys arrive as base64 text, and a key that silently decodes to other bytes
// produces a token the hub rejects with a bare 401, which is far harder to diagnose than a parse error here.
// Rejected: characters outside the alphabet (including whitespace and the URL-safe `-_`), a length that is
// not a multiple of 4, misplaced padding, and non-zero unused bits in the last quantum (non-canonical text).
// Error messages give positions, never content, because the text is usually a secret.

import { err, ok, type Result } from '../result';

export interface Base64Error {
  code: 'invalid-base64';
  message: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='

const DECODE_TABLE: Int16Array = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    parts.push(ALPHABET[(v >> 18) & 63]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!);
  }
  const rest = n - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    parts.push(ALPHABET[(v >> 18) & 63]! + ALPHABET[(v >> 12) & 63]! + '==');
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    parts.push(ALPHABET[(v >> 18) & 63]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + '=');
  }
  return parts.join('');
}

function invalid(message: string): { ok: false; error: Base64Error } {
  return err({ code: 'invalid-base64', message });
}

export function base64Decode(text: string): Result<Uint8Array, Base64Error> {
  const n = text.length;
  if (n % 4 !== 0) return invalid(`length ${n} is not a multiple of 4`);
  let padding = 0;
  if (n > 0 && text.charCodeAt(n - 1) === PAD) padding = text.charCodeAt(n - 2) === PAD ? 2 : 1;
  const dataChars = n - padding;
  const out = new Uint8Array((n / 4) * 3 - padding);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < dataChars; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE_TABLE[c]! : -1;
    if (v < 0) {
      return invalid(c === PAD ? `padding at offset ${i} before the end` : `character at offset ${i} is not base64`);
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return invalid('unused bits of the last character are not zero');
  return ok(out);
}
