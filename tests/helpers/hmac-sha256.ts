// HMAC-SHA-256 (RFC 2104) over the core's host-neutral SHA-256, for code that runs inside xsnap, which has no crypto
// module: the XS benchmark (its SAS figures are given both with this and with HMAC left out) and the virtual soak,
// which signs and verifies SAS tokens. A board's host would use its native HMAC instead.
import { sha256 } from '../../src/crypto/sha256';

const BLOCK = 64;

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key.length > BLOCK ? sha256(key) : key;
  const inner = new Uint8Array(BLOCK + data.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const byte = i < k.length ? k[i]! : 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  inner.set(data, BLOCK);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}
