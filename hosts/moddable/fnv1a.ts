// FNV-1a, 32-bit: a tiny, well-spread, non-cryptographic hash. Used to derive short preference keys and as
// the damage check on stored values (not as a security measure).

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/** Over the string's UTF-16 code units, so it needs no UTF-8 encoder and is stable across hosts. */
export function fnv1aString(text: string): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    hash = Math.imul(hash ^ (unit & 0xff), PRIME);
    hash = Math.imul(hash ^ (unit >>> 8), PRIME);
  }
  return hash >>> 0;
}

export function fnv1aBytes(bytes: Uint8Array): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], PRIME);
  return hash >>> 0;
}

export function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
