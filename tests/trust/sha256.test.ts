import { createHash } from 'node:crypto';
import { sha256 } from '../../src/crypto/sha256';
import { toHex } from '../../src/crypto/hex';

const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('SHA-256', () => {
  test('FIPS 180-4 examples', () => {
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  test('matches node:crypto at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 131 + n * 7) & 0xff);
      expect(toHex(sha256(bytes))).toBe(nodeSha(bytes));
    }
  });

  test('matches node:crypto on a megabyte', () => {
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i ^ (i >>> 8)) & 0xff);
    expect(toHex(sha256(bytes))).toBe(nodeSha(bytes));
  });
});
