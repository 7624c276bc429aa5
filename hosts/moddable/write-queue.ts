// Bytes the application wrote that the socket could not take yet. SecureSocket throws when handed more than
// it has room for, so the transport asks how much fits (`capacity`) and sends at most that, coalescing small
// queued writes into one TLS record. Pure: no Moddable module, so it is tested on Node.

/** Largest TLS plaintext record (2^14). */
export const MAX_RECORD_BYTES = 16384;

export class WriteQueue {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already sent. */
  private offset = 0;
  private queued = 0;

  get size(): number {
    return this.queued;
  }

  /** Copies: the caller may reuse its buffer as soon as write() returns. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.queued += bytes.length;
  }

  /**
   * Sends while the socket has room, at most `budget` bytes in all (a bound on one turn of the run loop).
   * Returns the number of bytes handed to `send`.
   */
  drain(capacity: () => number, send: (record: Uint8Array) => void, budget = Number.POSITIVE_INFINITY): number {
    let sent = 0;
    while (this.queued > 0 && sent < budget) {
      const room = Math.min(capacity(), MAX_RECORD_BYTES, budget - sent);
      if (room <= 0) break;
      const record = this.take(Math.min(room, this.queued));
      send(record);
      sent += record.length;
    }
    return sent;
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.queued = 0;
  }

  private take(count: number): Uint8Array {
    const first = this.chunks[0];
    if (first.length - this.offset >= count) {
      const out = first.subarray(this.offset, this.offset + count);
      this.advance(count);
      return out;
    }
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.chunks[0];
      const n = Math.min(head.length - this.offset, count - filled);
      out.set(head.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.advance(n);
    }
    return out;
  }

  private advance(count: number): void {
    this.offset += count;
    this.queued -= count;
    if (this.offset === this.chunks[0].length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
