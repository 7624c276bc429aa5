// Frames a TCP byte stream into MQTT packets, whatever the chunking. Body bytes are kept as the chunks they came
// in and joined only once the whole packet is there, so a push never re-copies what is already buffered; a body
// that sits inside one chunk is decoded in place, without any copy.
// A stream cannot resynchronise after a framing error, so the first error poisons the parser until reset().
// One exception, because its framing is intact: a PUBLISH over the size limit is refused at its remaining-length
// field and skipped while it streams by. Only its small variable header is kept (the topic when it fits in the
// limit, and the packet id, so the session can acknowledge it); the payload is counted down, never held.
// It comes out as a 'packet-too-large' error result carrying `skipped`, which does not poison the parser.
// Any other packet over the limit is a protocol error (a broker has no reason to send one) and poisons.

import { checkFixedHeader, decodeBody } from './decode';
import type { BodyDecoder, DecodeResult } from './decode';
import type { QoS } from './packets';
import { MqttProtocolError } from './protocol-error';

/** 256 KiB of payload (IoT Hub's message limit) plus room for the topic and headers. */
export const DEFAULT_MAX_PACKET_SIZE = 256 * 1024 + 1024;

export interface MqttStreamParserOptions {
  /** Largest whole packet (fixed header included) accepted, in bytes. */
  maxPacketSize?: number;
  /** Which side's packets to read: the device's (what a broker sends) unless broker-codec.ts passes its own. */
  decodeBody?: BodyDecoder;
}

/** What is known of a PUBLISH skipped for its size. */
export interface SkippedPublish {
  /** Undefined when the topic itself did not fit in the limit (it was counted down too). */
  topic: string | undefined;
  qos: QoS;
  /** Present exactly when qos is 1. */
  packetId?: number;
  dup: boolean;
  retain: boolean;
  /** The whole packet, fixed header included, in bytes. */
  size: number;
}

/** A PUBLISH refused for its size: reported in order with the packets around it; the stream goes on. */
export type SkippedResult = Extract<DecodeResult, { ok: false }> & { skipped: SkippedPublish };

export type StreamResult = DecodeResult | SkippedResult;

/** The state of a PUBLISH being skipped: its body is consumed byte by byte through the variable header, then in bulk. */
interface Skip {
  readonly size: number;
  /** Body bytes consumed so far. */
  at: number;
  /** Topic length prefix, or -1 until both of its bytes arrived. */
  topicLength: number;
  /** The length prefix and the topic, kept when they fit in the limit. */
  head: Uint8Array | undefined;
  packetId: number;
}

const EMPTY = new Uint8Array(0);
const PUBLISH = 3;

export class MqttStreamParser {
  private readonly maxPacketSize: number;
  private readonly decode: BodyDecoder;
  /** First byte of the packet being framed, or -1 while waiting for one. */
  private first = -1;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private lengthKnown = false;
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private poisoned = false;
  private skip: Skip | undefined;

  constructor(options: MqttStreamParserOptions = {}) {
    const max = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!Number.isInteger(max) || max < 2) {
      throw new MqttProtocolError('invalid-field', 'maxPacketSize must be an integer of at least 2');
    }
    this.maxPacketSize = max;
    this.decode = options.decodeBody ?? decodeBody;
  }

  /** True after a protocol error, until reset(). */
  get isPoisoned(): boolean {
    return this.poisoned;
  }

  /** Bytes of an unfinished packet held by the parser. */
  get bufferedBytes(): number {
    const header = this.first < 0 ? 0 : 1 + this.lengthBytes;
    const skip = this.skip;
    if (skip !== undefined) return header + (skip.head === undefined ? Math.min(skip.at, 2) : Math.min(skip.at, skip.head.length));
    return header + this.pendingLength;
  }

  /**
   * Feeds the next bytes of the stream and returns every packet they complete, in order. The parser may keep
   * views of `chunk` (and decoded payloads may be views of it): the caller must not modify it afterwards.
   * Once an error is returned, later pushes return nothing until reset(); a skipped PUBLISH (a result with
   * `skipped`) is the one error that does not poison.
   */
  push(chunk: Uint8Array): StreamResult[] {
    const results: StreamResult[] = [];
    if (this.poisoned) return results;
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (!this.lengthKnown) {
        const error = this.readHeaderByte(chunk[at++]);
        if (error !== undefined) {
          if (error.code !== 'packet-too-large' || this.first >> 4 !== PUBLISH) return this.poison(results, error);
          this.startSkip();
          continue;
        }
        if (this.lengthKnown && this.remaining === 0 && !this.emit(results, EMPTY)) return results;
        continue;
      }
      if (this.skip !== undefined) {
        at = this.skipBytes(chunk, at, results);
        if (this.poisoned) return results;
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

  /** The PUBLISH being framed is over the limit: from here its body is consumed, not kept. */
  private startSkip(): void {
    this.lengthKnown = true;
    this.skip = { size: 1 + this.lengthBytes + this.remaining, at: 0, topicLength: -1, head: undefined, packetId: 0 };
  }

  /** Consumes body bytes of the skipped PUBLISH from `chunk` at `at`; returns where it stopped. */
  private skipBytes(chunk: Uint8Array, at: number, results: StreamResult[]): number {
    const skip = this.skip as Skip;
    const qos = (this.first >> 1) & 3;
    const n = chunk.length;
    while (at < n && skip.at < this.remaining) {
      const variableHeader = skip.topicLength < 0 ? 2 : 2 + skip.topicLength + (qos === 1 ? 2 : 0);
      if (skip.at >= variableHeader) {
        // The payload: counted, never kept.
        const take = Math.min(this.remaining - skip.at, n - at);
        skip.at += take;
        at += take;
        break;
      }
      const byte = chunk[at++];
      const offset = skip.at++;
      if (offset < 2) {
        skip.packetId = (skip.packetId << 8) | byte;
        const error = offset === 1 ? this.readTopicLength(skip) : undefined;
        if (error !== undefined) {
          this.poison(results, error);
          return at;
        }
      } else if (offset < 2 + skip.topicLength) {
        if (skip.head !== undefined) skip.head[offset] = byte;
      } else {
        skip.packetId = ((skip.packetId << 8) | byte) & 0xffff;
      }
    }
    if (skip.at === this.remaining) this.endSkip(results);
    return at;
  }

  /** Both bytes of the topic length are in (held in packetId meanwhile): check it and decide whether to keep the topic. */
  private readTopicLength(skip: Skip): MqttProtocolError | undefined {
    const qos = (this.first >> 1) & 3;
    skip.topicLength = skip.packetId;
    skip.packetId = 0;
    const variableHeader = 2 + skip.topicLength + (qos === 1 ? 2 : 0);
    if (variableHeader > this.remaining) return new MqttProtocolError('truncated', 'PUBLISH topic runs past the end of the packet');
    // Kept only when holding it stays within the limit, so a skip never holds more than an accepted packet would.
    if (1 + this.lengthBytes + 2 + skip.topicLength <= this.maxPacketSize) {
      const head = new Uint8Array(2 + skip.topicLength);
      head[0] = skip.topicLength >> 8;
      head[1] = skip.topicLength & 0xff;
      skip.head = head;
    }
    return undefined;
  }

  private endSkip(results: StreamResult[]): void {
    const skip = this.skip as Skip;
    const first = this.first;
    const qos = ((first >> 1) & 3) as QoS;
    let topic: string | undefined;
    if (skip.head !== undefined) {
      // The topic is checked by the decoder's own rules: a QoS 0 PUBLISH of just that topic and no payload.
      const decoded = decodeBody(PUBLISH << 4, skip.head);
      if (!decoded.ok) {
        this.poison(results, decoded.error);
        return;
      }
      if (decoded.value.type === 'publish') topic = decoded.value.topic;
    }
    if (qos === 1 && skip.packetId === 0) {
      this.poison(results, new MqttProtocolError('invalid-packet-id', 'PUBLISH packet identifier is 0'));
      return;
    }
    const skipped: SkippedPublish = { topic, qos, dup: (first & 0x08) !== 0, retain: (first & 0x01) !== 0, size: skip.size };
    if (qos === 1) skipped.packetId = skip.packetId;
    const error = new MqttProtocolError('packet-too-large', `PUBLISH of ${skip.size} bytes exceeds the ${this.maxPacketSize}-byte limit; skipped`);
    results.push({ ok: false, error, skipped });
    this.startPacket();
  }

  /** Decodes the framed packet into `results`; false when it failed and the parser is now poisoned. */
  private emit(results: StreamResult[], body: Uint8Array): boolean {
    const result = this.decode(this.first, body);
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

  private poison(results: StreamResult[], error: MqttProtocolError): StreamResult[] {
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
    this.skip = undefined;
  }
}
