// MQTT packet identifiers: 1..65535, unique among the client's unacknowledged packets (QoS 1 PUBLISH,
// SUBSCRIBE, UNSUBSCRIBE). Allocation walks forward and wraps, so a just-released id is not reused at once
// (a late duplicate ack for it cannot be mistaken for the new packet's), and it skips ids still in use.

export const MAX_PACKET_ID = 65535;

export class PacketIdAllocator {
  private readonly inUse = new Set<number>();
  private last: number;

  /** `after` sets where the walk starts: the first id handed out is `after + 1` (wrapping). */
  constructor(after = 0) {
    this.last = after >= 1 && after <= MAX_PACKET_ID ? Math.floor(after) : 0;
  }

  get size(): number {
    return this.inUse.size;
  }

  isInUse(id: number): boolean {
    return this.inUse.has(id);
  }

  /** The next free id, now marked in use; undefined when all 65535 are taken. */
  allocate(): number | undefined {
    if (this.inUse.size >= MAX_PACKET_ID) return undefined;
    let id = this.last;
    do {
      id = id >= MAX_PACKET_ID ? 1 : id + 1;
    } while (this.inUse.has(id));
    this.last = id;
    this.inUse.add(id);
    return id;
  }

  /** Marks a specific id in use (ids kept from an earlier connection); false if it already was. */
  reserve(id: number): boolean {
    if (!Number.isInteger(id) || id < 1 || id > MAX_PACKET_ID || this.inUse.has(id)) return false;
    this.inUse.add(id);
    return true;
  }

  release(id: number): void {
    this.inUse.delete(id);
  }
}
