// CryptoPort on node:crypto.
import { createHmac, randomBytes } from 'node:crypto';
import type { CryptoPort } from '../../src/ports';

export function createNodeCrypto(): CryptoPort {
  return {
    hmacSha256: (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest()),
    randomBytes: (length) => {
      if (!Number.isInteger(length) || length < 0) throw new RangeError(`randomBytes length must be a non-negative integer, got ${length}`);
      return new Uint8Array(randomBytes(length));
    },
  };
}
