// CryptoPort on the SDK's crypt modules: HMAC-SHA256 from "hmac" over a "crypt" Digest (the same code the
// TLS stack uses for its record MACs).
//
// Randomness: "rng" is the generator the TLS stack draws its own key material from, an RC4 keystream seeded
// from the platform's c_rand(). On ESP32 c_rand() is esp_random(), the hardware RNG (true random while Wi-Fi or
// Bluetooth is on, per ESP-IDF), and so is Math.random(). We XOR the two so neither RC4's biases nor a single
// source carry through alone. On the Linux simulator c_rand() is libc rand(), never seeded: both sources repeat
// from run to run, which is fine for simulation and useless for secrets. Nothing in the firmware derives
// long-term keys from randomBytes (keys come from provisioning); it serves nonces, ids and jitter.
import { Digest } from 'crypt';
import HMAC from 'hmac';
import RNG from 'rng';
import type { CryptoPort } from '../../src/ports';

/** Math.random() on XS is c_rand() / INT32_MAX: scaling back recovers the 31-bit integer. */
const C_RAND_MAX = 0x7fffffff;

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(new HMAC(new Digest('SHA256'), key).process(data));
}

export function randomBytes(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`randomBytes: length must be a non-negative integer, got ${length}`);
  const out = new Uint8Array(RNG.get(length));
  for (let i = 0; i < length; i += 3) {
    const word = Math.round(Math.random() * C_RAND_MAX);
    out[i] ^= word & 0xff;
    if (i + 1 < length) out[i + 1] ^= (word >>> 8) & 0xff;
    if (i + 2 < length) out[i + 2] ^= (word >>> 16) & 0xff;
  }
  return out;
}

export function createModdableCrypto(): CryptoPort {
  return { hmacSha256, randomBytes };
}
