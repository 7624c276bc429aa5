// SHA-256 (FIPS 180-4) in plain TypeScript. The CryptoPort only offers HMAC, yet certificate fingerprints,
// thumbprints and firmware images need a digest that is the same on every host; this one is small and streams.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The 32-byte SHA-256 digest of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Sha256().update(data).digest();
}

/**
 * Streaming SHA-256: `update` with the bytes as they arrive (a firmware image, fragment by fragment), then `digest`
 * once. Holds 64 bytes of pending input and the eight state words, never the data. `save`/`restore` carry that
 * state across a power cut (a resumed download) in 105 bytes.
 */
export class Sha256 {
  private readonly h = new Uint32Array(INITIAL);
  private readonly w = new Uint32Array(64);
  private readonly block = new Uint8Array(64);
  private pending = 0;
  private total = 0;

  /** Bytes hashed so far. */
  get length(): number {
    return this.total;
  }

  update(data: Uint8Array): this {
    let at = 0;
    const n = data.length;
    this.total += n;
    if (this.pending > 0) {
      const take = Math.min(64 - this.pending, n);
      this.block.set(data.subarray(0, take), this.pending);
      this.pending += take;
      at = take;
      if (this.pending < 64) return this;
      compress(this.h, this.w, this.block, 0);
      this.pending = 0;
    }
    for (; at + 64 <= n; at += 64) compress(this.h, this.w, data, at);
    if (at < n) {
      this.block.set(data.subarray(at), 0);
      this.pending = n - at;
    }
    return this;
  }

  /** The digest of everything given to `update`. The object is spent afterwards. */
  digest(): Uint8Array {
    // The tail: leftover bytes, the 0x80 marker, zero fill, and the bit length in the last 8 bytes.
    const rest = this.pending;
    const tail = new Uint8Array(rest < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, rest));
    tail[rest] = 0x80;
    const end = tail.length;
    writeU32(tail, end - 8, Math.floor(this.total / 0x20000000));
    writeU32(tail, end - 4, (this.total * 8) >>> 0);
    for (let at = 0; at < end; at += 64) compress(this.h, this.w, tail, at);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) writeU32(out, i * 4, this.h[i]!);
    return out;
  }

  /** The state as bytes: 8 state words, the byte count (u64 as two u32), the pending count, the pending bytes. */
  save(): Uint8Array {
    const out = new Uint8Array(SHA256_STATE_BYTES);
    for (let i = 0; i < 8; i++) writeU32(out, i * 4, this.h[i]!);
    writeU32(out, 32, Math.floor(this.total / 0x100000000));
    writeU32(out, 36, this.total >>> 0);
    out[40] = this.pending;
    out.set(this.block, 41);
    return out;
  }

  /** A hash continuing from `save()`'s bytes; undefined when they are not a saved state. */
  static restore(state: Uint8Array): Sha256 | undefined {
    if (state.length !== SHA256_STATE_BYTES || state[40]! > 63) return undefined;
    const hash = new Sha256();
    for (let i = 0; i < 8; i++) hash.h[i] = readU32(state, i * 4);
    hash.total = readU32(state, 32) * 0x100000000 + readU32(state, 36);
    hash.pending = state[40]!;
    if (hash.total % 64 !== hash.pending) return undefined;
    hash.block.set(state.subarray(41, 105));
    return hash;
  }
}

export const SHA256_STATE_BYTES = 105;

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function compress(h: Uint32Array, w: Uint32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    w[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ror(x, 7) ^ ror(x, 18) ^ (x >>> 3);
    const s1 = ror(y, 17) ^ ror(y, 19) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = h[0]! + a;
  h[1] = h[1]! + b;
  h[2] = h[2]! + c;
  h[3] = h[3]! + d;
  h[4] = h[4]! + e;
  h[5] = h[5]! + f;
  h[6] = h[6]! + g;
  h[7] = h[7]! + k;
}

function ror(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}
