// Our UTF-8 against Node's: the encoder must match TextEncoder byte for byte, and the strict decoder must accept
// exactly what a fatal TextDecoder accepts.

import { isWellFormedUtf16, utf8Decode, utf8Encode, utf8Length, utf8Write } from '../../src/encoding/utf8';
import { seededRandom } from '../helpers/seeded-random';

const nodeEncoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function nodeStrictDecode(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

describe('utf8Encode matches TextEncoder', () => {
  test.each([
    ['empty', ''],
    ['ASCII', 'devices/d1/messages/events/'],
    ['2-byte boundaries', '\u0080\u07ff'],
    ['3-byte boundaries', '\u0800\uffff€中'],
    ['4-byte boundaries', '\u{10000}\u{10ffff}😀'],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', 'a\udc00'],
    ['reversed pair', '\udc00\ud800'],
    ['high surrogate at the end', 'x\udbff'],
  ])('%s', (_what, text) => {
    const expected = nodeEncoder.encode(text);
    expect(Array.from(utf8Encode(text))).toEqual(Array.from(expected));
    expect(utf8Length(text)).toBe(expected.length);
  });

  test('random strings of random code points (seed 1234)', () => {
    const rng = seededRandom(1234);
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const n = Math.floor(rng() * 30);
      for (let j = 0; j < n; j++) {
        const r = rng();
        // Mostly valid code points of every width, sometimes a lone surrogate unit.
        const unit = r < 0.3 ? Math.floor(rng() * 0x80) : r < 0.5 ? Math.floor(rng() * 0x800) : r < 0.9 ? Math.floor(rng() * 0x10000) : 0;
        text += unit > 0 ? String.fromCharCode(unit) : String.fromCodePoint(0x10000 + Math.floor(rng() * 0x100000));
      }
      const expected = nodeEncoder.encode(text);
      expect(Array.from(utf8Encode(text))).toEqual(Array.from(expected));
      expect(utf8Length(text)).toBe(expected.length);
    }
  });

  test('utf8Write writes at an offset and returns the end', () => {
    const target = new Uint8Array(8).fill(0xaa);
    expect(utf8Write('é€', target, 2)).toBe(7);
    expect(Array.from(target)).toEqual([0xaa, 0xaa, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xaa]);
  });
});

describe('isWellFormedUtf16 finds lone surrogates', () => {
  test.each([
    ['', true],
    ['abc', true],
    ['😀', true],
    ['\ud800', false],
    ['\udc00', false],
    ['a\ud83d', false],
    ['\ude00\ud83d', false],
    ['\ud83d\ude00\ud83d\ude00', true],
  ])('%j is %s', (text, expected) => {
    expect(isWellFormedUtf16(text)).toBe(expected);
  });
});

describe('utf8Decode is strict', () => {
  test.each([
    ['overlong NUL (c0 80)', bytes(0xc0, 0x80)],
    ['overlong "/" (c1 af)', bytes(0xc1, 0xaf)],
    ['overlong 3-byte (e0 9f bf)', bytes(0xe0, 0x9f, 0xbf)],
    ['overlong 4-byte (f0 8f bf bf)', bytes(0xf0, 0x8f, 0xbf, 0xbf)],
    ['surrogate U+D800 (ed a0 80)', bytes(0xed, 0xa0, 0x80)],
    ['surrogate U+DFFF (ed bf bf)', bytes(0xed, 0xbf, 0xbf)],
    ['U+110000 (f4 90 80 80)', bytes(0xf4, 0x90, 0x80, 0x80)],
    ['lead byte f5', bytes(0xf5, 0x80, 0x80, 0x80)],
    ['byte ff', bytes(0xff)],
    ['stray continuation', bytes(0x61, 0x80)],
    ['cut 2-byte sequence', bytes(0xc3)],
    ['cut 3-byte sequence', bytes(0xe2, 0x82)],
    ['cut 4-byte sequence', bytes(0xf0, 0x9f, 0x98)],
    ['ASCII where a continuation belongs', bytes(0xe2, 0x41, 0x82)],
  ])('%s is refused', (_what, input) => {
    expect(utf8Decode(input)).toBeUndefined();
    expect(nodeStrictDecode(input)).toBeUndefined();
  });

  test.each([
    ['U+0000', bytes(0x00), '\u0000'],
    ['U+007F', bytes(0x7f), '\u007f'],
    ['U+0080', bytes(0xc2, 0x80), '\u0080'],
    ['U+07FF', bytes(0xdf, 0xbf), '\u07ff'],
    ['U+0800', bytes(0xe0, 0xa0, 0x80), '\u0800'],
    ['U+D7FF', bytes(0xed, 0x9f, 0xbf), '\ud7ff'],
    ['U+E000', bytes(0xee, 0x80, 0x80), '\ue000'],
    ['U+FFFF', bytes(0xef, 0xbf, 0xbf), '\uffff'],
    ['U+10000', bytes(0xf0, 0x90, 0x80, 0x80), '\u{10000}'],
    ['U+10FFFF', bytes(0xf4, 0x8f, 0xbf, 0xbf), '\u{10ffff}'],
    ['BOM kept', bytes(0xef, 0xbb, 0xbf, 0x61), '\ufeffa'],
  ])('%s is accepted', (_what, input, expected) => {
    expect(utf8Decode(input)).toBe(expected);
  });

  test('decodes a range of a larger array', () => {
    const input = bytes(0xff, 0x61, 0xc3, 0xa9, 0xff);
    expect(utf8Decode(input, 1, 4)).toBe('aé');
    expect(utf8Decode(input, 1, 3)).toBeUndefined();
  });

  test('long text, past the internal slice size, with pairs throughout', () => {
    const text = 'ab😀€é'.repeat(3000);
    expect(utf8Decode(nodeEncoder.encode(text))).toBe(text);
  });

  test('agrees with a fatal TextDecoder on random bytes (seed 99)', () => {
    const rng = seededRandom(99);
    // Bytes drawn mostly from the interesting ranges: lead bytes, continuations and the edges between them.
    const pool = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = new Uint8Array(1 + Math.floor(rng() * 8));
      for (let j = 0; j < input.length; j++) input[j] = rng() < 0.8 ? pool[Math.floor(rng() * pool.length)] : Math.floor(rng() * 256);
      const expected = nodeStrictDecode(input);
      if (utf8Decode(input) !== expected) throw new Error(`disagree on ${Array.from(input, (b) => b.toString(16)).join(' ')}`);
      if (expected !== undefined) accepted++;
    }
    expect(accepted).toBeGreaterThan(500);
  });
});
