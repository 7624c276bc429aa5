// Telemetry sent from the flash journal: sendTelemetry appends there, and the channel hands the session the oldest
// unacknowledged messages, in journal order, inside the in-flight window. A message leaves the journal only on its
// PUBACK (a QoS 0 one once written). Connected or not, every journaled message takes this path; after a reboot
// the journal still holds what was not acknowledged and this sender starts from its oldest. Appends and
// acknowledgements are written in batches: on a timer (flushMs), and by flush() (before sleep, on close).
// The journal is a port (JournalPort, which src/storage/telemetry-journal.ts satisfies), so the hub client does
// not depend on how it is stored.

import type { LogLevel, TimerHandle, Timers } from '../ports';
import { encodePublish, type EncodedPublish } from '../mqtt/session';
import { errorText } from '../errors';
import { HubError } from './hub-error';
import type { JournalPort, JournalStatus, Journaling } from './hub-types';

/** One journaled message handed to the session. */
export interface HandedJournalMessage {
  seq: number;
  packet: EncodedPublish;
  handedAt: number;
}

interface Waiter {
  resolve(): void;
  reject(error: HubError): void;
  /** Resolve on the PUBACK only, not when written. */
  untilAck: boolean;
}

export interface JournalSenderDeps {
  journal: JournalPort;
  timers: Timers;
  flushMs: number;
  log(level: LogLevel, message: string): void;
  /** After every flush and every drop: depth, bytes, oldest age, drops. */
  onStatus(status: JournalStatus): void;
}

/** The journal as the hub client takes it (HubClientConfig.journal): the port and how to build its sender. */
export function journaling(port: JournalPort): Journaling {
  return { port, sender: (deps) => new JournalSender({ ...deps, journal: port }) };
}

export class JournalSender {
  private readonly journal: JournalPort;
  private readonly handed = new Map<number, HandedJournalMessage>();
  private readonly waiters = new Map<number, Waiter>();
  /** The next sequence number to hand out. */
  private cursor: number;
  private flushTimer: TimerHandle | undefined;
  private dropped: number;
  private closed = false;

  constructor(private readonly deps: JournalSenderDeps) {
    this.journal = deps.journal;
    this.cursor = this.journal.firstUnacknowledged ?? 0;
    this.dropped = this.journal.dropped;
  }

  get handedCount(): number {
    return this.handed.size;
  }

  get depth(): number {
    return this.journal.stats().depth;
  }

  /**
   * Appends; resolves once written to flash (or acknowledged, if that comes first), or with `untilAck` only on
   * the PUBACK. A full journal under 'refuse-newest', or a store that takes no writes, is 'queue-full'.
   */
  append(qos: 0 | 1, bag: string, payload: Uint8Array, untilAck: boolean): Promise<void> {
    const appended = this.journal.append(qos, bag, payload);
    if (!appended.ok) {
      const code = appended.error.code === 'too-large' ? 'too-large' : 'queue-full';
      return Promise.reject(new HubError(code, appended.error.message, { field: 'telemetry' }));
    }
    const seq = appended.value;
    this.checkDrops();
    this.armFlush();
    return new Promise<void>((resolve, reject) => this.waiters.set(seq, { resolve, reject, untilAck }));
  }

  /** The next messages to publish, at most `room`, oldest first; `topicPrefix` is the current identity's. */
  handOut(now: number, room: number, topicPrefix: string): HandedJournalMessage[] {
    const out: HandedJournalMessage[] = [];
    if (room <= 0) return out;
    for (const entry of this.journal.read(this.cursor, room)) {
      this.cursor = entry.seq + 1;
      let packet: EncodedPublish;
      try {
        packet = encodePublish(topicPrefix + entry.bag, entry.payload, { qos: entry.qos });
      } catch (error) {
        // Only a journal written by other firmware could hold this; it would block everything behind it.
        this.deps.log('warn', `journaled telemetry #${entry.seq} cannot be sent (${errorText(error)}); removed`);
        this.settle(entry.seq, new HubError('invalid-argument', `telemetry could not be sent: ${errorText(error)}`));
        continue;
      }
      const item = { seq: entry.seq, packet, handedAt: now };
      this.handed.set(entry.seq, item);
      out.push(item);
    }
    return out;
  }

  /** The hub acknowledged it (QoS 1), or it was written (QoS 0): it leaves the journal. */
  delivered(item: HandedJournalMessage): void {
    this.handed.delete(item.seq);
    this.settle(item.seq, undefined);
  }

  /** Never written, or written on a connection whose session will not resend it: it goes out again, in order. */
  giveBack(item: HandedJournalMessage): void {
    if (!this.handed.delete(item.seq)) return;
    if (item.seq < this.cursor) this.cursor = item.seq;
  }

  /** The session refused it for good. */
  failed(item: HandedJournalMessage, error: HubError): void {
    this.handed.delete(item.seq);
    this.settle(item.seq, error);
  }

  restartClocks(now: number): void {
    for (const item of this.handed.values()) item.handedAt = now;
  }

  oldestUnacknowledged(): number | undefined {
    let oldest: number | undefined;
    for (const item of this.handed.values()) {
      if (item.packet.qos === 1 && (oldest === undefined || item.handedAt < oldest)) oldest = item.handedAt;
    }
    return oldest;
  }

  /** Writes what waits (appends and acknowledgements) now; resolves the messages that are then on flash. */
  flush(): HubError | undefined {
    this.clearFlush();
    const written = this.journal.flush();
    let problem: HubError | undefined;
    if (!written.ok) {
      problem = new HubError('queue-full', `telemetry journal not written: ${written.error.message}`);
      this.deps.log('warn', problem.message);
      if (!this.closed) this.armFlush();
    }
    const below = this.journal.journaledBelow;
    for (const [seq, waiter] of this.waiters) {
      if (seq < below && !waiter.untilAck) {
        this.waiters.delete(seq);
        waiter.resolve();
      }
    }
    this.deps.onStatus(this.journal.stats());
    return problem;
  }

  /** Writes what waits and rejects every call still waiting with `error()`; the journal keeps the messages. */
  close(error: () => HubError): void {
    this.closed = true;
    if (this.journal.dirty) this.flush();
    this.clearFlush();
    this.handed.clear();
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiting) waiter.reject(error());
  }

  private settle(seq: number, error: HubError | undefined): void {
    this.journal.acknowledge(seq);
    if (!this.closed) this.armFlush();
    const waiter = this.waiters.get(seq);
    if (waiter === undefined) return;
    this.waiters.delete(seq);
    if (error === undefined) waiter.resolve();
    else waiter.reject(error);
  }

  /** Messages the journal dropped (drop-oldest) fail their callers that wait for the PUBACK. */
  private checkDrops(): void {
    const dropped = this.journal.dropped;
    if (dropped === this.dropped) return;
    this.dropped = dropped;
    for (const [seq, waiter] of this.waiters) {
      if (this.journal.isPending(seq) || this.handed.has(seq)) continue;
      this.waiters.delete(seq);
      if (waiter.untilAck || seq >= this.journal.journaledBelow) waiter.reject(new HubError('queue-full', 'dropped from the full telemetry journal before the hub acknowledged it'));
      else waiter.resolve(); // it was journaled; the journal later gave it up, which the drop count reports
    }
    this.deps.onStatus(this.journal.stats());
  }

  private armFlush(): void {
    if (this.flushTimer !== undefined || this.closed) return;
    this.flushTimer = this.deps.timers.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.deps.flushMs);
  }

  private clearFlush(): void {
    if (this.flushTimer !== undefined) this.deps.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
