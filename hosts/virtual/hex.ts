// Hex text <-> bytes for scripted tests: bytes on the wire are written and compared as lowercase hex.

const DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += DIGITS[bytes[i] >> 4] + DIGITS[bytes[i] & 15];
  return out;
}

/** Accepts spaces between bytes for readability ("10 16 00 04"); throws on anything that is not hex. */
export function fromHex(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '').toLowerCase();
  if (compact.length % 2 !== 0 || /[^0-9a-f]/.test(compact)) {
    throw new Error(`not an even-length hex string (${compact.length} digits)`);
  }
  const out = new Uint8Array(compact.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(compact.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** UTF-8 bytes of an ASCII-only string; enough for test topics and payloads without TextEncoder (absent on some XS builds). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new Error(`ascii(): character ${i} is not ASCII`);
    out[i] = code;
  }
  return out;
}
