// Bytes the application wrote that the socket could not take yet. SecureSocket throws when handed more than
// it has room for, so the transport asks how much fits (`capacity`) and sends at most that. Small queued writes
// share one TLS record: they are handed to SecureSocket's write(...parts) together, which joins them into the
// record it encrypts, so the bytes are copied once (by SecureSocket), never here. Pure: no Moddable module, so
// it is tested on Node.

/** Largest TLS plaintext record (2^14). */
export const MAX_RECORD_BYTES = 16384;

/** Most parts handed to one write(...parts) call: each is an argument on the XS stack. */
export const MAX_RECORD_PARTS = 8;

export class WriteQueue {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already sent. */
  private offset = 0;
  private queued = 0;

  get size(): number {
    return this.queued;
  }

  /** Keeps `bytes` itself, no copy: the port's write() contract says the caller never changes them. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.queued += bytes.length;
  }

  /**
   * Sends while the socket has room, at most `budget` bytes in all (a bound on one turn of the run loop).
   * Each `send` gets the parts of one record: views of the queued bytes, in order. Returns the bytes sent.
   */
  drain(capacity: () => number, send: (parts: Uint8Array[]) => void, budget = Number.POSITIVE_INFINITY): number {
    let sent = 0;
    while (this.queued > 0 && sent < budget) {
      const room = Math.min(capacity(), MAX_RECORD_BYTES, budget - sent);
      if (room <= 0) break;
      const parts = this.take(Math.min(room, this.queued));
      send(parts);
      for (const part of parts) sent += part.length;
    }
    return sent;
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.queued = 0;
  }

  /** Views of the next `count` bytes (fewer if MAX_RECORD_PARTS chunks end first); a partly sent chunk's rest stays queued. */
  private take(count: number): Uint8Array[] {
    const parts: Uint8Array[] = [];
    let taken = 0;
    while (taken < count && parts.length < MAX_RECORD_PARTS) {
      const head = this.chunks[0];
      const n = Math.min(head.length - this.offset, count - taken);
      parts.push(this.offset === 0 && n === head.length ? head : head.subarray(this.offset, this.offset + n));
      taken += n;
      this.advance(n);
    }
    return parts;
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
