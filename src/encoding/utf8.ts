// UTF-8 written by hand: XS builds may lack TextEncoder/TextDecoder, and the MQTT codec needs a strict decoder
// (TextDecoder's default silently replaces bad bytes) plus an encoder that writes into a buffer it did not allocate.

const REPLACEMENT = 0xfffd;
// String.fromCharCode takes its units as arguments, and XS pushes every argument onto its stack (384 slots on an
// ESP32-C3, shared with the whole call chain that is decoding), so text is built in small slices.
const UNITS_PER_SLICE = 32;

/**
 * Bytes `s` takes in UTF-8. A lone surrogate counts as U+FFFD (3 bytes), which is what `utf8Write` writes for it,
 * as TextEncoder does. Use `isWellFormedUtf16` first where a lone surrogate must be refused instead.
 */
export function utf8Length(s: string): number {
  let length = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** True when every surrogate in `s` is part of a pair, i.e. `s` has an exact UTF-8 form. */
export function isWellFormedUtf16(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit > 0xdbff || i + 1 >= n || !isLowSurrogate(s.charCodeAt(i + 1))) return false;
    i++;
  }
  return true;
}

/**
 * Writes `s` as UTF-8 into `target` from `offset` and returns the offset after it. The caller sizes `target`
 * with `utf8Length`. Lone surrogates become U+FFFD.
 */
export function utf8Write(s: string, target: Uint8Array, offset: number): number {
  let at = offset;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let point = s.charCodeAt(i);
    if (point < 0x80) {
      target[at++] = point;
      continue;
    }
    if (point >= 0xd800 && point <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (point <= 0xdbff && isLowSurrogate(next)) {
        point = 0x10000 + ((point - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        point = REPLACEMENT;
      }
    }
    if (point < 0x800) {
      target[at++] = 0xc0 | (point >> 6);
      target[at++] = 0x80 | (point & 0x3f);
    } else if (point < 0x10000) {
      target[at++] = 0xe0 | (point >> 12);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    } else {
      target[at++] = 0xf0 | (point >> 18);
      target[at++] = 0x80 | ((point >> 12) & 0x3f);
      target[at++] = 0x80 | ((point >> 6) & 0x3f);
      target[at++] = 0x80 | (point & 0x3f);
    }
  }
  return at;
}

/** `s` as UTF-8 in a new, exactly sized array. Lone surrogates become U+FFFD. */
export function utf8Encode(s: string): Uint8Array {
  const bytes = new Uint8Array(utf8Length(s));
  utf8Write(s, bytes, 0);
  return bytes;
}

/**
 * Strict decode of `bytes[start, end)`: returns undefined for anything that is not well-formed UTF-8
 * (overlong forms, surrogate code points, values above U+10FFFF, stray or missing continuation bytes).
 */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string | undefined {
  const units: number[] = [];
  let text = '';
  let i = start;
  while (i < end) {
    const lead = bytes[i];
    if (lead < 0x80) {
      units.push(lead);
      i++;
    } else {
      const point = decodeMultiByte(bytes, i, end, lead);
      if (point < 0) return undefined;
      if (point >= 0x10000) {
        units.push(0xd800 + ((point - 0x10000) >> 10), 0xdc00 + ((point - 0x10000) & 0x3ff));
        i += 4;
      } else {
        units.push(point);
        i += point < 0x800 ? 2 : 3;
      }
    }
    if (units.length >= UNITS_PER_SLICE) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return units.length > 0 ? text + String.fromCharCode(...units) : text;
}

/** The code point of the 2..4-byte sequence at `i`, or -1 when it is not well-formed (Unicode table 3-7). */
function decodeMultiByte(bytes: Uint8Array, i: number, end: number, lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) {
    if (i + 1 >= end) return -1;
    const b1 = bytes[i + 1];
    if (!isContinuation(b1)) return -1;
    return ((lead & 0x1f) << 6) | (b1 & 0x3f);
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    if (i + 2 >= end) return -1;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    // E0 needs A0.. to avoid overlongs; ED stops at 9F to exclude surrogates D800..DFFF.
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    if (b1 < low || b1 > high || !isContinuation(b2)) return -1;
    return ((lead & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (i + 3 >= end) return -1;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const b3 = bytes[i + 3];
    // F0 needs 90.. to avoid overlongs; F4 stops at 8F so nothing exceeds U+10FFFF.
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    if (b1 < low || b1 > high || !isContinuation(b2) || !isContinuation(b3)) return -1;
    return ((lead & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
  }
  // 80..C1 (stray continuation, overlong 2-byte lead) and F5..FF never start a sequence.
  return -1;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
