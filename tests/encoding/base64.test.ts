import { base64Decode, base64Encode } from '../../src/encoding/base64';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function decoded(text: string): Uint8Array {
  const r = base64Decode(text);
  if (!r.ok) throw new Error(`unexpected failure: ${r.error.message}`);
  return r.value;
}

function decodeError(text: string): string {
  const r = base64Decode(text);
  if (r.ok) throw new Error('expected a failure');
  expect(r.error.code).toBe('invalid-base64');
  return r.error.message;
}

const RFC4648: Array<[string, string]> = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

describe('base64 encode', () => {
  test.each(RFC4648)('RFC 4648 vector %j -> %j', (plain, encoded) => {
    expect(base64Encode(ascii(plain))).toBe(encoded);
  });

  test('matches Node for every length 0..70 over all byte values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff);
    for (let n = 0; n <= 70; n++) {
      const slice = all.subarray(n, n * 2 + 1);
      expect(base64Encode(slice)).toBe(Buffer.from(slice).toString('base64'));
    }
    expect(base64Encode(all)).toBe(Buffer.from(all).toString('base64'));
  });
});

describe('base64 decode', () => {
  test.each(RFC4648)('RFC 4648 vector %j <- %j', (plain, encoded) => {
    expect(decoded(encoded)).toEqual(ascii(plain));
  });

  test('round-trips all byte values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decoded(base64Encode(all))).toEqual(all);
  });

  test('decodes the Azure sample keys', () => {
    expect(decoded('cGFzc3dvcmQ=')).toEqual(ascii('password'));
    expect(decoded('8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==')).toHaveLength(64);
  });
});

describe('base64 decode is strict', () => {
  test('length must be a multiple of 4 (no unpadded text)', () => {
    expect(decodeError('Zg')).toBe('length 2 is not a multiple of 4');
    expect(decodeError('Zm9vY')).toBe('length 5 is not a multiple of 4');
  });

  test('characters outside the standard alphabet, including whitespace and URL-safe ones', () => {
    expect(decodeError('Zm9-')).toBe('character at offset 3 is not base64');
    expect(decodeError('Zm_v')).toBe('character at offset 2 is not base64');
    expect(decodeError('Zm 9')).toBe('character at offset 2 is not base64');
    expect(decodeError('Zm9\u00e9')).toBe('character at offset 3 is not base64');
    expect(decodeError('Zm9v\nYmFy')).toBe('length 9 is not a multiple of 4');
  });

  test('padding only at the end', () => {
    expect(decodeError('Zg=a')).toBe('padding at offset 2 before the end');
    expect(decodeError('Z===')).toBe('padding at offset 1 before the end');
    expect(decodeError('====')).toBe('padding at offset 0 before the end');
    expect(decodeError('Zg==Zm9v')).toBe('padding at offset 2 before the end');
  });

  test('non-zero unused bits (non-canonical text)', () => {
    expect(decodeError('Zh==')).toBe('unused bits of the last character are not zero');
    expect(decodeError('Zm9=')).toBe('unused bits of the last character are not zero');
  });

  test('messages never quote the input', () => {
    const secretish = 'c2VjcmV0a2V5!!';
    const message = decodeError(secretish + '==');
    expect(message).not.toContain('c2Vj');
  });
});
