// Frames a TCP byte stream into MQTT packets, whatever the chunking. Body bytes are kept as the chunks they came
// in and joined only once the whole packet is there, so a push never re-copies what is already buffered; a body
// that sits inside one chunk is decoded in place, without any copy.
// A stream cannot resynchronise after a framing error, so the first error poisons the parser until reset().

import { checkFixedHeader, decodeBody } from './decode';
import type { DecodeResult } from './decode';
import { MqttProtocolError } from './protocol-error';

/** 256 KiB of payload (IoT Hub's message limit) plus room for the topic and headers. */
export const DEFAULT_MAX_PACKET_SIZE = 256 * 1024 + 1024;

export interface MqttStreamParserOptions {
  /** Largest whole packet (fixed header included) accepted, in bytes. */
  maxPacketSize?: number;
}

const EMPTY = new Uint8Array(0);

export class MqttStreamParser {
  private readonly maxPacketSize: number;
  /** First byte of the packet being framed, or -1 while waiting for one. */
  private first = -1;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private lengthKnown = false;
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private poisoned = false;

  constructor(options: MqttStreamParserOptions = {}) {
    const max = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!Number.isInteger(max) || max < 2) {
      throw new MqttProtocolError('invalid-field', 'maxPacketSize must be an integer of at least 2');
    }
    this.maxPacketSize = max;
  }

  /** True after a protocol error, until reset(). */
  get isPoisoned(): boolean {
    return this.poisoned;
  }

  /** Bytes of an unfinished packet held by the parser. */
  get bufferedBytes(): number {
    return (this.first < 0 ? 0 : 1 + this.lengthBytes) + this.pendingLength;
  }

  /**
   * Feeds the next bytes of the stream and returns every packet they complete, in order. The parser may keep
   * views of `chunk` (and decoded payloads may be views of it): the caller must not modify it afterwards.
   * Once an error is returned, later pushes return nothing until reset().
   */
  push(chunk: Uint8Array): DecodeResult[] {
    const results: DecodeResult[] = [];
    if (this.poisoned) return results;
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (!this.lengthKnown) {
        const error = this.readHeaderByte(chunk[at++]);
        if (error !== undefined) return this.poison(results, error);
        if (this.lengthKnown && this.remaining === 0 && !this.emit(results, EMPTY)) return results;
        continue;
      }
      const missing = this.remaining - this.pendingLength;
      if (this.pendingLength === 0 && n - at >= missing) {
        const body = chunk.subarray(at, at + missing);
        at += missing;
        if (!this.emit(results, body)) return results;
        continue;
      }
      const take = Math.min(missing, n - at);
      this.pending.push(chunk.subarray(at, at + take));
      this.pendingLength += take;
      at += take;
      if (this.pendingLength === this.remaining && !this.emit(results, this.joinPending())) return results;
    }
    return results;
  }

  /** Forgets any partial packet and the poisoned state, for a new connection. */
  reset(): void {
    this.poisoned = false;
    this.startPacket();
  }

  /** Advances the fixed-header state by one byte; returns the error that byte reveals, if any. */
  private readHeaderByte(byte: number): MqttProtocolError | undefined {
    if (this.first < 0) {
      this.first = byte;
      return checkFixedHeader(byte);
    }
    this.remaining += (byte & 0x7f) * this.multiplier;
    this.lengthBytes++;
    if ((byte & 0x80) !== 0) {
      if (this.lengthBytes === 4) return new MqttProtocolError('malformed-length', 'remaining length runs past 4 bytes');
      this.multiplier *= 128;
      return undefined;
    }
    // Checked before any body byte is buffered, so a peer cannot make us hold more than the limit.
    const total = 1 + this.lengthBytes + this.remaining;
    if (total > this.maxPacketSize) {
      return new MqttProtocolError('packet-too-large', `packet of ${total} bytes exceeds the ${this.maxPacketSize}-byte limit`);
    }
    this.lengthKnown = true;
    return undefined;
  }

  /** Decodes the framed packet into `results`; false when it failed and the parser is now poisoned. */
  private emit(results: DecodeResult[], body: Uint8Array): boolean {
    const result = decodeBody(this.first, body);
    if (!result.ok) {
      this.poison(results, result.error);
      return false;
    }
    results.push(result);
    this.startPacket();
    return true;
  }

  private joinPending(): Uint8Array {
    if (this.pending.length === 1) return this.pending[0];
    const body = new Uint8Array(this.pendingLength);
    let at = 0;
    for (const piece of this.pending) {
      body.set(piece, at);
      at += piece.length;
    }
    return body;
  }

  private poison(results: DecodeResult[], error: MqttProtocolError): DecodeResult[] {
    this.poisoned = true;
    this.startPacket();
    results.push({ ok: false, error });
    return results;
  }

  private startPacket(): void {
    this.first = -1;
    this.remaining = 0;
    this.multiplier = 1;
    this.lengthBytes = 0;
    this.lengthKnown = false;
    this.pending = [];
    this.pendingLength = 0;
  }
}
