// Mutations of valid inputs: the cheap way to reach the corners of a parser that purely random bytes never do
// (a random byte string is almost always rejected at its first byte). Each call applies a few stacked edits.

import type { Rng } from '../lib/rng';

export type ByteMutation = 'bit-flip' | 'byte-set' | 'truncate' | 'splice' | 'length-edit' | 'insert' | 'delete' | 'duplicate';

const BYTE_MUTATIONS: readonly ByteMutation[] = ['bit-flip', 'byte-set', 'truncate', 'splice', 'length-edit', 'insert', 'delete', 'duplicate'];

/** Values that sit on boundaries parsers care about: length prefixes, continuation bits, UTF-8 lead bytes. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff];

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  return concat(parts);
}

/**
 * Rewrites a length field: an MQTT remaining-length byte (1..4 bytes after a fixed header) or a 16-bit string
 * length prefix, to a nearby or extreme value. `at` is where the field is guessed to be.
 */
function editLength(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  if (out.length < 2) return out;
  if (rng.chance(0.5)) {
    // Remaining-length bytes: right after the first byte of the stream, or after a random earlier byte.
    const at = rng.chance(0.6) ? 1 : rng.int(1, out.length - 1);
    const choice = rng.int(0, 4);
    if (choice === 0) out[at] = 0xff;
    else if (choice === 1) out[at] = (out[at]! + rng.int(-3, 3)) & 0xff;
    else if (choice === 2) out[at] = out[at]! | 0x80;
    else if (choice === 3) out[at] = out[at]! & 0x7f;
    else out[at] = rng.pick(INTERESTING_BYTES);
    return out;
  }
  const at = rng.int(0, out.length - 2);
  const current = (out[at]! << 8) | out[at + 1]!;
  const value = rng.pick([0, 1, 0xffff, 0x8000, current + 1, current - 1, current + rng.int(2, 300), current - rng.int(2, 300)]) & 0xffff;
  out[at] = value >> 8;
  out[at + 1] = value & 0xff;
  return out;
}

export function mutateBytes(input: Uint8Array, rng: Rng, donors: readonly Uint8Array[] = [], edits = rng.int(1, 4)): Uint8Array {
  let out = input;
  for (let e = 0; e < edits; e++) out = mutateOnce(out, rng, donors);
  return out;
}

function mutateOnce(input: Uint8Array, rng: Rng, donors: readonly Uint8Array[]): Uint8Array {
  const kind = rng.pick(BYTE_MUTATIONS);
  const n = input.length;
  switch (kind) {
    case 'bit-flip': {
      if (n === 0) return input;
      const out = input.slice();
      const at = rng.int(0, n - 1);
      out[at] = out[at]! ^ (1 << rng.int(0, 7));
      return out;
    }
    case 'byte-set': {
      if (n === 0) return input;
      const out = input.slice();
      out[rng.int(0, n - 1)] = rng.chance(0.6) ? rng.pick(INTERESTING_BYTES) : rng.int(0, 255);
      return out;
    }
    case 'truncate':
      return input.slice(0, rng.int(0, n));
    case 'splice': {
      const donor = donors.length > 0 ? rng.pick(donors) : input;
      const cut = rng.int(0, n);
      const from = rng.int(0, donor.length);
      return concat([input.subarray(0, cut), donor.subarray(from, rng.int(from, donor.length))]);
    }
    case 'length-edit':
      return editLength(input, rng);
    case 'insert': {
      const at = rng.int(0, n);
      const extra = rng.chance(0.5) ? new Uint8Array([rng.pick(INTERESTING_BYTES)]) : rng.bytes(rng.int(1, 16));
      return concat([input.subarray(0, at), extra, input.subarray(at)]);
    }
    case 'delete': {
      if (n === 0) return input;
      const at = rng.int(0, n - 1);
      return concat([input.subarray(0, at), input.subarray(Math.min(n, at + rng.int(1, 8)))]);
    }
    case 'duplicate': {
      if (n === 0) return input;
      const from = rng.int(0, n - 1);
      const piece = input.subarray(from, Math.min(n, from + rng.int(1, 32)));
      const at = rng.int(0, n);
      return concat([input.subarray(0, at), piece, input.subarray(at)]);
    }
  }
}

/** Characters that mean something to the Azure grammars, plus encodings edge cases. */
const INTERESTING_TEXT = [
  '%', '%2', '%ZZ', '%00', '%C3', '%C3%28', '%ED%A0%80', '%F0%9F%98%80', '%2F', '%25', '&', '&&', '=', '==', '/', '/?', '?',
  '$', '$rid', '$version', '$rid=', '$version=', 'retry-after=', ';', ';;', ' ', '\t', '\n', '\u0000', '\uD800', '\uDFFF',
  '\uFEFF', '😀', 'é', '+', '#', '*', '{', '}', '[', ']', '"', '\\', ',', ':', 'null', '-1', '1e308', '99999999999999999',
  '0', '00', '200', '429', '999',
];

export function mutateText(input: string, rng: Rng, donors: readonly string[] = [], edits = rng.int(1, 3)): string {
  let out = input;
  for (let e = 0; e < edits; e++) out = mutateTextOnce(out, rng, donors);
  return out;
}

function mutateTextOnce(input: string, rng: Rng, donors: readonly string[]): string {
  const n = input.length;
  const at = rng.int(0, n);
  switch (rng.int(0, 7)) {
    case 0:
      return input.slice(0, at) + rng.pick(INTERESTING_TEXT) + input.slice(at);
    case 1:
      return input.slice(0, at) + rng.pick(INTERESTING_TEXT) + input.slice(Math.min(n, at + rng.int(1, 4)));
    case 2:
      return input.slice(0, at);
    case 3:
      return input.slice(at);
    case 4: {
      const donor = donors.length > 0 ? rng.pick(donors) : input;
      const from = rng.int(0, donor.length);
      return input.slice(0, at) + donor.slice(from, rng.int(from, donor.length));
    }
    case 5:
      return input.slice(0, at) + input.slice(Math.min(n, at + rng.int(1, 6)));
    case 6: {
      const piece = input.slice(at, Math.min(n, at + rng.int(1, 12)));
      return input.slice(0, at) + piece.repeat(rng.int(2, 6)) + input.slice(at);
    }
    default: {
      // Replace one character with a random code unit (lone surrogates and controls included).
      if (n === 0) return String.fromCharCode(rng.int(0, 0xffff));
      const i = rng.int(0, n - 1);
      return input.slice(0, i) + String.fromCharCode(rng.chance(0.5) ? rng.int(0, 0x7f) : rng.int(0, 0xffff)) + input.slice(i + 1);
    }
  }
}
