// SHA-1 (FIPS 180-4) for one job only: checking a WebSocket server's Sec-WebSocket-Accept (RFC 6455 section 4.1),
// which the host crypto ports do not offer. Not for signatures or fingerprints: those use sha256.ts.

/** The 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const w = new Uint32Array(80);
  const fullBlocks = data.length >>> 6;
  for (let b = 0; b < fullBlocks; b++) compress(h, w, data, b * 64);
  // The tail: leftover bytes, the 0x80 marker, zero fill, and the bit length in the last 8 bytes.
  const rest = data.length - fullBlocks * 64;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(data.subarray(fullBlocks * 64));
  tail[rest] = 0x80;
  const end = tail.length;
  writeU32(tail, end - 8, Math.floor(data.length / 0x20000000));
  writeU32(tail, end - 4, (data.length * 8) >>> 0);
  for (let at = 0; at < end; at += 64) compress(h, w, tail, at);
  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) writeU32(out, i * 4, h[i]!);
  return out;
}

function compress(h: Uint32Array, w: Uint32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    w[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 80; i++) w[i] = rol(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const t = (rol(a, 5) + f + e + k + w[i]!) | 0;
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = t;
  }
  h[0] = h[0]! + a;
  h[1] = h[1]! + b;
  h[2] = h[2]! + c;
  h[3] = h[3]! + d;
  h[4] = h[4]! + e;
}

function rol(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}
