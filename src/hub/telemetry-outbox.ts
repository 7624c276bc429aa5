// Telemetry the application handed over and the hub has not acknowledged yet. Messages wait here while the
// client is offline or draining, and only a small window of them is handed to the MQTT session at a time: the
// session's queue is first-in first-out, so a deep backlog of QoS 1 telemetry there would hold up twin requests
// and method replies behind it. The bound on everything pending (waiting + handed over) is what the caller sees
// as 'queue-full'.

import { HubError } from './hub-error';

export interface OutgoingTelemetry {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
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

  constructor(
    private readonly maxPending: number,
    private readonly maxHanded: number,
  ) {}

  get pendingCount(): number {
    return this.waiting.length + this.handed.size;
  }

  get handedCount(): number {
    return this.handed.size;
  }

  /** Accepts the message, or returns 'queue-full' without keeping it. */
  enqueue(item: OutgoingTelemetry): HubError | undefined {
    if (this.pendingCount >= this.maxPending) {
      return new HubError('queue-full', `${this.maxPending} telemetry messages are already pending`);
    }
    item.seq = this.nextSeq++;
    this.waiting.push(item);
    return undefined;
  }

  /** Moves as many waiting messages as the window allows to 'handed' and returns them, oldest first. */
  handOut(now: number): OutgoingTelemetry[] {
    const out: OutgoingTelemetry[] = [];
    while (this.waiting.length > 0 && this.handed.size < this.maxHanded) {
      const item = this.waiting.shift() as OutgoingTelemetry;
      item.handedAt = now;
      this.handed.add(item);
      out.push(item);
    }
    return out;
  }

  /** The session finished with it (acknowledged, or failed for good). */
  done(item: OutgoingTelemetry): void {
    this.handed.delete(item);
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
      if (item.qos !== 1 || item.handedAt === undefined) continue;
      if (oldest === undefined || item.handedAt < oldest) oldest = item.handedAt;
    }
    return oldest;
  }

  /** Empties the outbox, rejecting everything with `error()`. */
  rejectAll(error: () => HubError): void {
    const all = [...this.handed, ...this.waiting];
    this.handed.clear();
    this.waiting.length = 0;
    for (const item of all) item.reject(error());
  }
}
