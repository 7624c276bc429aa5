// Watches one client's MQTT traffic in plain text (inside TLS), both directions, with timestamps: when TLS came
// up, when the client was ready (every subscription acknowledged and the twin received), how many round trips
// that took by the packets themselves, and the bytes each way. A neutral observer: mqtt-packet parses both sides.
import mqtt from 'mqtt-packet';

export interface TappedPacket {
  at: number;
  direction: 'out' | 'in';
  cmd: string;
  topic?: string;
  bytes: number;
}

/** The four subscriptions a hub device needs, recognised by what they start with (clients spell the wildcard alike). */
const REQUIRED_FILTERS: readonly ((topic: string) => boolean)[] = [
  (t) => t.startsWith('devices/') && t.includes('/messages/devicebound/'),
  (t) => t.startsWith('$iothub/methods/POST/'),
  (t) => t.startsWith('$iothub/twin/res/'),
  (t) => t.startsWith('$iothub/twin/PATCH/properties/desired/'),
];

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class PacketTap {
  readonly packets: TappedPacket[] = [];
  secureAt: number | undefined;
  readyAt: number | undefined;
  private readonly outParser = mqtt.parser({ protocolVersion: 4 });
  private readonly inParser = mqtt.parser({ protocolVersion: 4 });
  private chunkBytes = { out: 0, in: 0 };
  private readonly pendingSubscribes = new Map<number, string[]>();
  private readonly acked = new Set<number>();
  private twinReceived = false;
  private readyWaiters: Array<() => void> = [];

  constructor() {
    this.outParser.on('packet', (p: mqtt.Packet) => this.record('out', p));
    this.inParser.on('packet', (p: mqtt.Packet) => this.record('in', p));
  }

  secure(): void {
    this.secureAt ??= nowMs();
  }

  out(bytes: Uint8Array): void {
    this.chunkBytes.out += bytes.length;
    this.outParser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  in(bytes: Uint8Array): void {
    this.chunkBytes.in += bytes.length;
    this.inParser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  /** Resolves at readiness; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.readyAt !== undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms; saw ${this.describe()}`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Client flights up to readiness: a new one starts whenever the client sends after hearing from the hub. */
  roundTripsToReady(): number {
    let trips = 0;
    let heard = true;
    for (const p of this.packets) {
      if (this.readyAt !== undefined && p.at > this.readyAt) break;
      if (p.direction === 'out' && heard) {
        trips++;
        heard = false;
      } else if (p.direction === 'in') heard = true;
    }
    return trips;
  }

  /** MQTT bytes each way up to readiness (the TLS records around them not counted). */
  bytesToReady(): { out: number; in: number } {
    const total = { out: 0, in: 0 };
    for (const p of this.packets) {
      if (this.readyAt !== undefined && p.at > this.readyAt) break;
      total[p.direction] += p.bytes;
    }
    return total;
  }

  /** The packet sequence, flights separated by ` > ` (a wait for the hub): `CONNECT > SUBSCRIBEx4 PUBLISH`. */
  describe(until = this.readyAt): string {
    const flights: string[][] = [];
    let heard = true;
    for (const p of this.packets) {
      if (until !== undefined && p.at > until) break;
      if (p.direction === 'in') {
        heard = true;
        continue;
      }
      if (heard) flights.push([]);
      heard = false;
      flights[flights.length - 1].push(p.cmd.toUpperCase());
    }
    return flights.map((f) => compress(f).join(' ')).join(' > ');
  }

  private record(direction: 'out' | 'in', packet: mqtt.Packet): void {
    const at = nowMs();
    const bytes = mqtt.generate(packet).length;
    const topic = 'topic' in packet && typeof packet.topic === 'string' ? packet.topic : undefined;
    this.packets.push({ at, direction, cmd: packet.cmd, topic, bytes });
    if (direction === 'out' && packet.cmd === 'subscribe' && packet.messageId !== undefined) {
      this.pendingSubscribes.set(packet.messageId, packet.subscriptions.map((s) => s.topic));
    }
    if (direction === 'in' && packet.cmd === 'suback' && packet.messageId !== undefined) {
      for (const filter of this.pendingSubscribes.get(packet.messageId) ?? []) {
        const i = REQUIRED_FILTERS.findIndex((matches) => matches(filter));
        if (i >= 0) this.acked.add(i);
      }
    }
    if (direction === 'in' && packet.cmd === 'publish' && /^\$iothub\/twin\/res\/200\//.test(packet.topic)) {
      this.twinReceived = true;
    }
    if (this.readyAt === undefined && this.twinReceived && this.acked.size === REQUIRED_FILTERS.length) {
      this.readyAt = at;
      for (const waiter of this.readyWaiters.splice(0)) waiter();
    }
  }
}

function compress(names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; ) {
    let j = i;
    while (j < names.length && names[j] === names[i]) j++;
    out.push(j - i > 1 ? `${names[i]}x${j - i}` : names[i]);
    i = j;
  }
  return out;
}
