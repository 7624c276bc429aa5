// Outgoing QoS 1 PUBLISHes sent but not yet acknowledged, in the order they were first sent.
// The order matters: after a reconnect MQTT requires re-sending them in their original order.

export interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

export interface InflightPublish {
  readonly packetId: number;
  /** The encoded PUBLISH, held once: sent with DUP clear, and on a resend DUP is set in these same bytes. */
  readonly bytes: Uint8Array;
  /** Undefined once the owner abandoned it: the id stays reserved until the broker acks it or the link drops. */
  settle: Settle | undefined;
}

export class InflightTable {
  // A Map iterates in insertion order, which is exactly the first-sent order we must keep.
  private readonly entries = new Map<number, InflightPublish>();

  get size(): number {
    return this.entries.size;
  }

  add(entry: InflightPublish): void {
    this.entries.set(entry.packetId, entry);
  }

  /** Removes and returns the entry an ack refers to; undefined when that id is not in flight. */
  take(packetId: number): InflightPublish | undefined {
    const entry = this.entries.get(packetId);
    if (entry !== undefined) this.entries.delete(packetId);
    return entry;
  }

  /** All entries in first-sent order (a snapshot: safe to mutate the table while walking it). */
  list(): InflightPublish[] {
    return Array.from(this.entries.values());
  }

  /** Removes the entries matching `drop` and returns them, keeping the rest in order. */
  removeWhere(drop: (entry: InflightPublish) => boolean): InflightPublish[] {
    const removed: InflightPublish[] = [];
    for (const entry of this.entries.values()) {
      if (drop(entry)) removed.push(entry);
    }
    for (const entry of removed) this.entries.delete(entry.packetId);
    return removed;
  }
}
