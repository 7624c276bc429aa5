// Splits what a Serial LTE Modem (SLM) sends over the UART into AT lines and the raw blocks that follow an
// `#XRECV: <size>` line (SLM writes exactly <size> socket bytes there, then its final result line). Bounded: one
// line buffer of maxLineBytes, allocated once; data blocks are passed on as views of the incoming chunks, never
// buffered. What is not a well-formed line (control or non-ASCII bytes, a line over the limit, a block larger
// than the owner's budget) is refused and counted, and reading carries on at the next line end.

export type AtRefusal = 'garbage' | 'too-long' | 'too-large';

export interface AtReaderSink {
  line(text: string): void;
  /** A piece of an `#XRECV` block; `last` on the piece that ends it. */
  data(bytes: Uint8Array, last: boolean): void;
  refused(reason: AtRefusal): void;
}

export interface AtReaderLimits {
  /** The longest line kept (CR/LF excluded). */
  maxLineBytes: number;
  /** The largest `#XRECV` block accepted; a larger one is skipped unread. */
  maxDataBytes: number;
}

const CR = 13;
const LF = 10;
const RECV = '#XRECV: ';

export class AtReader {
  private readonly line: Uint8Array;
  private length = 0;
  private bad: AtRefusal | undefined;
  /** Bytes of an `#XRECV` block still to come; `skip` when the block is refused. */
  private pending = 0;
  private skip = false;
  /** An `#XRECV` header ended with CR: its LF comes before the block. */
  private awaitLf = false;
  private refusals = 0;

  constructor(
    private readonly limits: AtReaderLimits,
    private readonly sink: AtReaderSink,
  ) {
    this.line = new Uint8Array(limits.maxLineBytes);
  }

  /** Lines and blocks refused so far. */
  get refusedCount(): number {
    return this.refusals;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.pending > 0) {
        const take = Math.min(this.pending, chunk.length - at);
        this.pending -= take;
        if (!this.skip) this.sink.data(chunk.subarray(at, at + take), this.pending === 0);
        at += take;
        continue;
      }
      const byte = chunk[at++]!;
      if (this.awaitLf) {
        this.awaitLf = false;
        this.pending = this.block;
        if (byte !== LF) at--;
        continue;
      }
      if (byte === CR || byte === LF) {
        this.endLine(byte);
        continue;
      }
      if (this.bad !== undefined) continue;
      if (byte < 0x20 || byte > 0x7e) this.bad = 'garbage';
      else if (this.length === this.line.length) this.bad = 'too-long';
      else this.line[this.length++] = byte;
    }
  }

  private block = 0;

  private endLine(terminator: number): void {
    const bad = this.bad;
    const length = this.length;
    this.bad = undefined;
    this.length = 0;
    if (bad !== undefined) return this.refuse(bad);
    if (length === 0) return;
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(this.line[i]!);
    if (text.startsWith(RECV)) {
      const size = /^[0-9]{1,9}$/.test(text.slice(RECV.length)) ? Number(text.slice(RECV.length)) : -1;
      if (size < 0) return this.refuse('garbage');
      // SLM ends the header with CRLF; the block starts after the LF.
      if (terminator === CR) {
        this.awaitLf = size > 0;
        this.block = size;
      } else this.pending = size;
      this.skip = size > this.limits.maxDataBytes;
      if (this.skip) this.refuse('too-large');
    }
    this.sink.line(text);
  }

  private refuse(reason: AtRefusal): void {
    this.refusals++;
    this.sink.refused(reason);
  }
}
