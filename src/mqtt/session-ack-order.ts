// PUBACKs for incoming QoS 1 PUBLISHes leave in the order the PUBLISHes arrived (MQTT 3.1.1 section 4.6),
// even when the handlers finish out of order: a finished message waits for the ones received before it.

interface Pending {
  readonly packetId: number;
  done: boolean;
}

export type AckTicket = object;

export class AckOrder {
  private readonly queue: Pending[] = [];

  get waiting(): number {
    return this.queue.length;
  }

  /** Records an arrival; complete the ticket when its handler is done. */
  expect(packetId: number): AckTicket {
    const entry: Pending = { packetId, done: false };
    this.queue.push(entry);
    return entry;
  }

  /** Marks the ticket done and returns the packet ids whose PUBACK may go out now, in order. */
  complete(ticket: AckTicket): number[] {
    const entry = ticket as Pending;
    if (!this.queue.includes(entry)) return [];
    entry.done = true;
    const ready: number[] = [];
    while (this.queue.length > 0 && this.queue[0].done) ready.push(this.queue.shift()!.packetId);
    return ready;
  }
}
