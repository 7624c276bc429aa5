// URL (percent) encoding the way Azure IoT signs and parses it. Encoding is deliberately stricter than
// encodeURIComponent: every UTF-8 byte outside `A-Z a-z 0-9 - _ . ~` becomes `%XX` with upper-case hex, so
// `!'()*` are escaped too. The hub recomputes SAS signatures over the exact text it receives, so one fixed
// spelling is what makes tokens and topics reproducible.
// Decoding accepts either hex case and passes raw characters through, because the hub and other clients do not
// always escape (C2D values arrive with raw `/`). `+` is kept as `+`: this is not form encoding.

import { err, ok, type Result } from '../result';
import { utf8Decode, utf8Encode } from './utf8';

// Unpaired surrogates have no UTF-8 form: utf8Encode writes U+FFFD for them, so encoding stays total.
// Builders that must not alter text (property names and values) refuse such text first (isWellFormedUtf16).

export interface PercentDecodeError {
  code: 'invalid-percent-encoding' | 'invalid-utf8';
  message: string;
}

const HEX = '0123456789ABCDEF';
const ESCAPES: string[] = [];
for (let b = 0; b < 256; b++) ESCAPES.push('%' + HEX[b >> 4]! + HEX[b & 15]!);

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e // ~
  );
}

export function percentEncodeBytes(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    parts.push(isUnreserved(b) ? String.fromCharCode(b) : ESCAPES[b]!);
  }
  return parts.join('');
}

export function percentEncode(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    if (!isUnreserved(text.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  return percentEncodeBytes(utf8Encode(text));
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function percentDecode(text: string): Result<string, PercentDecodeError> {
  if (text.indexOf('%') < 0) return ok(text);
  // Escapes may split a multi-byte character, so collect bytes and decode the UTF-8 once at the end.
  const chunks: Uint8Array[] = [];
  let escaped: number[] = [];
  let rawStart = 0;
  let i = 0;
  const flushEscaped = (): void => {
    if (escaped.length > 0) {
      chunks.push(Uint8Array.from(escaped));
      escaped = [];
    }
  };
  while (i < text.length) {
    if (text.charCodeAt(i) !== 0x25) {
      i++;
      continue;
    }
    const hi = i + 1 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
    const lo = i + 2 < text.length ? hexValue(text.charCodeAt(i + 2)) : -1;
    if (hi < 0 || lo < 0) {
      return err({ code: 'invalid-percent-encoding', message: `'%' at offset ${i} is not followed by two hex digits` });
    }
    if (i > rawStart) {
      flushEscaped();
      chunks.push(utf8Encode(text.slice(rawStart, i)));
    }
    escaped.push((hi << 4) | lo);
    i += 3;
    rawStart = i;
  }
  flushEscaped();
  if (rawStart < text.length) chunks.push(utf8Encode(text.slice(rawStart)));
  let total = 0;
  for (const c of chunks) total += c.length;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  const decoded = utf8Decode(bytes);
  if (decoded === undefined) {
    return err({ code: 'invalid-utf8', message: 'escaped bytes are not valid UTF-8' });
  }
  return ok(decoded);
}
