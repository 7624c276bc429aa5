// Telemetry the application handed over and the hub has not acknowledged yet. Messages wait here while the
// client is offline or draining, and only a small window of them is handed to the MQTT session at a time: the
// session's queue is first-in first-out, so a deep backlog of QoS 1 telemetry there would hold up twin requests
// and method replies behind it. Everything pending (waiting + handed over) is bounded twice, in messages and in
// bytes; either bound is what the caller sees as 'queue-full'.
// Each message is kept as its encoded PUBLISH only (not the payload): handing it over shares those same bytes
// with the session, which sends, holds in flight and resends them, so a message in flight exists once.

import type { EncodedPublish } from '../mqtt/session';
import { HubError } from './hub-error';

export interface OutgoingTelemetry {
  /** The one copy of the message, shared with the MQTT session once handed over. */
  readonly packet: EncodedPublish;
  resolve(): void;
  reject(error: HubError): void;
  /** Monotonic time it was handed to the session (or resent after a reconnect); set while handed over. */
  handedAt?: number;
  /** Acceptance order, so messages given back keep their original order. */
  seq?: number;
}

export class TelemetryOutbox {
  private readonly waiting: OutgoingTelemetry[] = [];
  private readonly handed = new Set<OutgoingTelemetry>();
  private nextSeq = 0;
  private bytes = 0;

  constructor(
    private readonly maxPending: number,
    private readonly maxHanded: number,
    private readonly maxPendingBytes = Number.POSITIVE_INFINITY,
  ) {}

  get pendingCount(): number {
    return this.waiting.length + this.handed.size;
  }

  get handedCount(): number {
    return this.handed.size;
  }

  /** Bytes of encoded messages pending (waiting + handed over). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Whether a message of `size` encoded bytes would be accepted now; asked before encoding it. */
  check(size: number): HubError | undefined {
    if (size > this.maxPendingBytes) {
      return new HubError('too-large', `a telemetry message of ${size} bytes is over the ${this.maxPendingBytes}-byte telemetry budget`, { field: 'telemetry' });
    }
    if (this.pendingCount >= this.maxPending) {
      return new HubError('queue-full', `${this.maxPending} telemetry messages are already pending`);
    }
    if (this.bytes + size > this.maxPendingBytes) {
      return new HubError('queue-full', `${this.bytes} bytes of telemetry are pending; ${size} more would pass the ${this.maxPendingBytes}-byte budget`);
    }
    return undefined;
  }

  /** Accepts the message, or returns 'queue-full' / 'too-large' without keeping it. */
  enqueue(item: OutgoingTelemetry): HubError | undefined {
    const size = item.packet.bytes.length;
    const refused = this.check(size);
    if (refused !== undefined) return refused;
    item.seq = this.nextSeq++;
    this.bytes += size;
    this.waiting.push(item);
    return undefined;
  }

  /** Moves as many waiting messages as the window (and `limit`) allows to 'handed' and returns them, oldest first. */
  handOut(now: number, limit = this.maxHanded): OutgoingTelemetry[] {
    const out: OutgoingTelemetry[] = [];
    while (this.waiting.length > 0 && this.handed.size < this.maxHanded && out.length < limit) {
      const item = this.waiting.shift() as OutgoingTelemetry;
      item.handedAt = now;
      this.handed.add(item);
      out.push(item);
    }
    return out;
  }

  /** The session finished with it (acknowledged, or failed for good). */
  done(item: OutgoingTelemetry): void {
    if (this.handed.delete(item)) this.bytes -= item.packet.bytes.length;
    delete item.handedAt;
  }

  /** The session gave it back unsent (its connection closed first): it goes out first next time. */
  giveBack(item: OutgoingTelemetry): void {
    if (!this.handed.delete(item)) return;
    delete item.handedAt;
    const seq = item.seq ?? 0;
    let i = 0;
    while (i < this.waiting.length && (this.waiting[i]!.seq ?? 0) < seq) i++;
    this.waiting.splice(i, 0, item);
  }

  /** After a reconnect the session resends what it still holds: the acknowledgement clock starts again. */
  restartClocks(now: number): void {
    for (const item of this.handed) item.handedAt = now;
  }

  /** The earliest hand-over time among QoS 1 messages still unacknowledged, if any. */
  oldestUnacknowledged(): number | undefined {
    let oldest: number | undefined;
    for (const item of this.handed) {
      if (item.packet.qos !== 1 || item.handedAt === undefined) continue;
      if (oldest === undefined || item.handedAt < oldest) oldest = item.handedAt;
    }
    return oldest;
  }

  /** Empties the outbox, rejecting everything with `error()`. */
  rejectAll(error: () => HubError): void {
    const all = [...this.handed, ...this.waiting];
    this.handed.clear();
    this.waiting.length = 0;
    this.bytes = 0;
    for (const item of all) item.reject(error());
  }
}
