// Length-prefixed binary fields for record bodies that hold certificates and keys: base64 in JSON would grow
// a 4 KB chain by a third, and flash is the scarce resource. The reader never runs past the end; it reports it.

import { readU32, writeU32 } from './record';
import { utf8Decode, utf8Encode } from '../encoding/utf8';

export class BodyWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  u8(value: number): this {
    this.reserve(1)[this.length++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    writeU32(this.reserve(4), this.length, value);
    this.length += 4;
    return this;
  }

  /** A u32 length, then the bytes. */
  blob(bytes: Uint8Array): this {
    this.u32(bytes.length);
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  text(value: string): this {
    return this.blob(utf8Encode(value));
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(extra: number): Uint8Array {
    const needed = this.length + extra;
    if (needed > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    return this.buffer;
  }
}

/** Reads fields in order; any read past the end (or bad UTF-8) returns undefined and latches `failed`. */
export class BodyReader {
  private at = 0;
  failed = false;

  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  get done(): boolean {
    return this.at === this.bytes.length;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return this.fail();
    return this.bytes[this.at++]!;
  }

  u32(): number | undefined {
    if (this.remaining < 4) return this.fail();
    const value = readU32(this.bytes, this.at);
    this.at += 4;
    return value;
  }

  /** A copy, so the caller may keep it after the store's buffer is reused. */
  blob(): Uint8Array | undefined {
    const length = this.u32();
    if (length === undefined || length > this.remaining) return this.fail();
    const value = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return value;
  }

  text(): string | undefined {
    const bytes = this.blob();
    if (bytes === undefined) return undefined;
    const value = utf8Decode(bytes);
    return value === undefined ? this.fail() : value;
  }

  private fail(): undefined {
    this.failed = true;
    return undefined;
  }
}
