// RFC 6455 framing, client side. The encoder writes masked frames (a client MUST mask, section 5.3). The reader
// takes the server's byte stream in any chunking and is strict: server frames must be unmasked, RSV bits clear,
// lengths minimal, control frames whole and short, close codes valid (section 7.4). Binary payload bytes are
// handed on as they arrive, never gathered into a frame or message: MQTT above reads a byte stream, so message
// and fragment boundaries carry nothing. Only control payloads (at most 125 bytes) are held. A frame whose length
// is over the limit is refused from its header, before any of its payload is read.

import { utf8Decode } from '../encoding/utf8';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes the reader sends (section 7.4.1). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL = 1002;
export const CLOSE_UNSUPPORTED = 1003;
export const CLOSE_BAD_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

/** A masked client frame: FIN set unless `fin` is false, the 4 mask bytes from `mask[at..at+3]` (fresh random per frame). */
export function encodeClientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array, fin = true, at = 0): Uint8Array {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = 2 + lengthBytes + 4;
  const frame = new Uint8Array(head + n);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | n;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    // Frames this side writes stay far below 2^32 bytes: the high word is zero.
    frame[6] = n >>> 24;
    frame[7] = (n >>> 16) & 0xff;
    frame[8] = (n >>> 8) & 0xff;
    frame[9] = n & 0xff;
  }
  for (let k = 0; k < 4; k++) frame[head - 4 + k] = mask[at + k]!;
  for (let i = 0; i < n; i++) frame[head + i] = payload[i]! ^ mask[at + (i & 3)]!;
  return frame;
}

/** The payload of a Close frame: the code, big-endian, then the reason (short, UTF-8). */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new Uint8Array(2 + reason.length);
  text[0] = code >>> 8;
  text[1] = code & 0xff;
  for (let i = 0; i < reason.length; i++) text[2 + i] = reason.charCodeAt(i) & 0x7f;
  return text;
}

/** Whether a peer may send `code` in a Close frame (section 7.4: 1004-1006 and 1015 are never sent). */
export function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

export interface FrameSink {
  /** Payload bytes of binary frames and their continuations, in order, as they arrive. */
  frameData(chunk: Uint8Array): void;
  /** A whole Ping, Pong or Close frame. */
  frameControl(opcode: number, payload: Uint8Array): void;
  /** The server broke the protocol: `code` is the close code to answer with. The reader reads nothing more. */
  frameFail(code: number, message: string): void;
}

/** Close frame contents, or a message naming what is wrong with them. */
export function readClose(payload: Uint8Array): { code?: number; reason: string } | { error: string } {
  if (payload.length === 0) return { reason: '' };
  if (payload.length === 1) return { error: 'close frame with a 1-byte body' };
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) return { error: `close code ${code} is not one a peer may send` };
  const reason = utf8Decode(payload, 2);
  if (reason === undefined) return { error: 'close reason is not UTF-8' };
  return { code, reason };
}

export class FrameReader {
  private readonly head = new Uint8Array(10);
  private headLength = 0;
  /** Payload bytes still to come in the current frame; -1 while reading a header. */
  private remaining = -1;
  private opcode = 0;
  private control: Uint8Array | undefined;
  private controlAt = 0;
  /** A fragmented binary message is open: continuations are expected. */
  private inMessage = false;
  private stopped = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
  ) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.stopped) {
      if (this.remaining < 0) {
        this.head[this.headLength++] = chunk[at++]!;
        this.headerByte();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      if (this.control === undefined) {
        this.sink.frameData(take === chunk.length ? chunk : chunk.subarray(at, at + take));
      } else {
        this.control.set(chunk.subarray(at, at + take), this.controlAt);
        this.controlAt += take;
      }
      at += take;
      this.remaining -= take;
      if (this.remaining === 0) this.frameDone();
    }
  }

  private fail(code: number, message: string): void {
    this.stopped = true;
    this.sink.frameFail(code, message);
  }

  /** Called after each header byte; starts the payload once the header is whole. */
  private headerByte(): void {
    const h = this.head;
    if (this.headLength === 2) {
      const b0 = h[0]!;
      const b1 = h[1]!;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if ((b0 & 0x70) !== 0) return this.fail(CLOSE_PROTOCOL, 'frame with RSV bits set (no extension was agreed)');
      if ((b1 & 0x80) !== 0) return this.fail(CLOSE_PROTOCOL, 'masked frame from the server');
      if (opcode >= 0x8) {
        if (opcode > OP_PONG) return this.fail(CLOSE_PROTOCOL, `unknown opcode ${opcode}`);
        if (!fin) return this.fail(CLOSE_PROTOCOL, 'fragmented control frame');
        if ((b1 & 0x7f) > 125) return this.fail(CLOSE_PROTOCOL, 'control frame over 125 bytes');
      } else if (opcode === OP_TEXT) {
        return this.fail(CLOSE_UNSUPPORTED, 'text frame (MQTT travels in binary frames)');
      } else if (opcode === OP_CONTINUATION) {
        if (!this.inMessage) return this.fail(CLOSE_PROTOCOL, 'continuation frame with no message open');
      } else if (opcode === OP_BINARY) {
        if (this.inMessage) return this.fail(CLOSE_PROTOCOL, 'new message while a fragmented one is open');
      } else {
        return this.fail(CLOSE_PROTOCOL, `unknown opcode ${opcode}`);
      }
      this.opcode = opcode;
      if (opcode < 0x8) this.inMessage = !fin;
    }
    if (this.headLength < 2) return;
    const short = h[1]! & 0x7f;
    const need = short === 126 ? 4 : short === 127 ? 10 : 2;
    if (this.headLength < need) return;
    let length = short;
    if (short === 126) {
      length = (h[2]! << 8) | h[3]!;
      if (length < 126) return this.fail(CLOSE_PROTOCOL, 'frame length not in its shortest form');
    } else if (short === 127) {
      if ((h[2]! & 0x80) !== 0) return this.fail(CLOSE_PROTOCOL, 'frame length with the top bit set');
      // Past 2^53 the number is not exact, but anything past 2^32 is far over every limit anyway.
      const high = ((h[2]! << 24) | (h[3]! << 16) | (h[4]! << 8) | h[5]!) >>> 0;
      const low = ((h[6]! << 24) | (h[7]! << 16) | (h[8]! << 8) | h[9]!) >>> 0;
      length = high * 0x100000000 + low;
      if (length < 65536) return this.fail(CLOSE_PROTOCOL, 'frame length not in its shortest form');
    }
    if (length > this.maxFrameBytes) return this.fail(CLOSE_TOO_BIG, `frame of ${length} bytes is over the ${this.maxFrameBytes}-byte limit`);
    this.headLength = 0;
    this.remaining = length;
    if (this.opcode >= 0x8) {
      this.control = new Uint8Array(length);
      this.controlAt = 0;
    }
    if (length === 0) this.frameDone();
  }

  private frameDone(): void {
    this.remaining = -1;
    const control = this.control;
    if (control === undefined) return;
    this.control = undefined;
    if (this.opcode === OP_CLOSE) {
      const close = readClose(control);
      if ('error' in close) return this.fail(close.error.startsWith('close reason') ? CLOSE_BAD_DATA : CLOSE_PROTOCOL, close.error);
      // Nothing after a Close frame means anything (section 5.5.1).
      this.stopped = true;
    }
    this.sink.frameControl(this.opcode, control);
  }
}
