// Device-to-cloud telemetry: checks a message against the hub's rules and this device's budgets before encoding
// it, keeps only its encoded PUBLISH in the outbox, hands a small window of them to the session while connected,
// and watches acknowledgements: a QoS 1 message unacknowledged for ackTimeoutMs means a stuck connection, which
// the owner ends (the session resends everything in flight on the next one).

import type { LogLevel, TimerHandle, Timers } from '../ports';
import { encodePublish, encodedPublishSize, type EncodedPublish } from '../mqtt/session';
import { checkTelemetrySize } from '../azure/limits';
import { telemetryTopicPrefix, type TelemetryTopicOptions } from '../azure/telemetry-topic';
import { errorText } from '../errors';
import { utf8Encode } from '../encoding/utf8';
import { notWritten } from './failure-cause';
import { HubError, closedError } from './hub-error';
import type { JournalStatus, Journaling, TelemetryOptions } from './hub-types';
import type { JournalSender, HandedJournalMessage } from './journal-sender';
import { TelemetryOutbox, type OutgoingTelemetry } from './telemetry-outbox';
import { TelemetryTopicCache } from './telemetry-topic-cache';

export interface TelemetryChannelDeps {
  timers: Timers;
  maxPending: number;
  maxInflight: number;
  maxPendingBytes: number;
  /** 0 disables the acknowledgement watchdog. */
  ackTimeoutMs: number;
  /** Hands an encoded PUBLISH to the session; settles as the session's publishEncoded() does. */
  publish(packet: EncodedPublish): Promise<void>;
  /** True while new messages may be handed to the session (connected, not draining). */
  canSend(): boolean;
  log(level: LogLevel, message: string): void;
  /** No PUBACK within ackTimeoutMs: the owner reconnects to resend. */
  onStuck(): void;
  /** A message settled: the client re-checks whether a renewal drain is complete. */
  onSettled(): void;
  /** With it, telemetry is kept there until acknowledged (RAM-only without). */
  journal?: Journaling;
  /** Appends and acknowledgements are written to the journal this long after the first one waiting. */
  journalFlushMs?: number;
  /** The telemetry topic prefix of the identity in use, for journaled messages. */
  topicPrefix?(): string;
  onJournal?(status: JournalStatus): void;
}

export class TelemetryChannel {
  private readonly outbox: TelemetryOutbox;
  private readonly topics = new TelemetryTopicCache();
  private readonly sender: JournalSender | undefined;
  private ackTimer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly deps: TelemetryChannelDeps) {
    this.outbox = new TelemetryOutbox(deps.maxPending, deps.maxInflight, deps.maxPendingBytes);
    if (deps.journal !== undefined) {
      this.sender = deps.journal.sender({
        timers: deps.timers,
        flushMs: deps.journalFlushMs ?? 1000,
        log: deps.log,
        onStatus: (status) => deps.onJournal?.(status),
      });
    }
  }

  /** Accepted and not yet acknowledged (in RAM and in the journal). */
  get pendingCount(): number {
    return this.outbox.pendingCount + (this.sender?.depth ?? 0);
  }

  /** Handed to the session and not yet settled. */
  get inFlight(): number {
    return this.outbox.handedCount + (this.sender?.handedCount ?? 0);
  }

  /** Writes the journal's waiting appends and acknowledgements now (before sleep); the failure, if any. */
  flush(): HubError | undefined {
    return this.sender?.flush();
  }

  send(identity: { deviceId: string; moduleId?: string }, body: Uint8Array | string, options: TelemetryOptions): Promise<void> {
    let payload: Uint8Array;
    if (typeof body === 'string') payload = utf8Encode(body);
    else if (body instanceof Uint8Array) payload = body;
    else return Promise.reject(new HubError('invalid-argument', 'telemetry body must be a string or a Uint8Array', { field: 'body' }));
    const qos = options.qos ?? 1;
    if (qos !== 0 && qos !== 1) return Promise.reject(new HubError('invalid-argument', 'qos must be 0 or 1', { field: 'qos' }));

    const sender = options.journal === false ? undefined : this.sender;
    const topicInput: TelemetryTopicOptions = { deviceId: identity.deviceId, ...(options.systemProperties ?? {}) };
    if (identity.moduleId !== undefined) topicInput.moduleId = identity.moduleId;
    // A journaled message gets its $.mid now, so every resend (after a reboot too) carries the same one.
    if (sender !== undefined && topicInput.messageId === undefined) topicInput.messageId = this.deps.journal!.port.nextMessageId();
    if (options.properties !== undefined) topicInput.properties = options.properties;
    const topic = this.topics.topic(topicInput);
    if (!topic.ok) {
      return Promise.reject(new HubError('invalid-argument', `telemetry: ${topic.error.message}`, { field: topic.error.field, cause: topic.error }));
    }
    const size = checkTelemetrySize(payload.length, topic.value);
    if (!size.ok) return Promise.reject(new HubError('too-large', size.error.message, { field: size.error.field, cause: size.error }));
    if (sender !== undefined) {
      const prefix = telemetryTopicPrefix(identity.deviceId, identity.moduleId);
      const bag = prefix.ok ? topic.value.slice(prefix.value.length) : topic.value;
      const done = sender.append(qos, bag, payload, options.resolveOn === 'acknowledged');
      this.pump();
      return done;
    }
    const budget = this.outbox.check(encodedPublishSize(size.value - payload.length, payload.length, qos));
    if (budget !== undefined) return Promise.reject(budget);
    let packet: EncodedPublish;
    try {
      packet = encodePublish(topic.value, payload, { qos });
    } catch (error) {
      return Promise.reject(new HubError('invalid-argument', `telemetry could not be sent: ${errorText(error)}`, { cause: error }));
    }
    return new Promise<void>((resolve, reject) => {
      const refused = this.outbox.enqueue({ packet, resolve, reject });
      if (refused !== undefined) reject(refused);
      else this.pump();
    });
  }

  /** A new connection is up: what the session resends is timed from now, and waiting messages go out. */
  onConnected(): void {
    this.outbox.restartClocks(this.deps.timers.now());
    this.sender?.restartClocks(this.deps.timers.now());
    this.pump();
  }

  onDisconnected(): void {
    this.clearAckTimer();
  }

  /** Rejects everything pending with `error()` and stops the watchdog. */
  close(error: () => HubError): void {
    this.closed = true;
    this.clearAckTimer();
    this.sender?.close(error);
    this.outbox.rejectAll(error);
  }

  /** Hands out as many waiting messages as the window allows: the journal's first, in its order. */
  pump(): void {
    if (!this.deps.canSend()) return;
    const now = this.deps.timers.now();
    const sender = this.sender;
    if (sender !== undefined && this.deps.topicPrefix !== undefined) {
      const room = this.deps.maxInflight - this.outbox.handedCount - sender.handedCount;
      for (const item of sender.handOut(now, room, this.deps.topicPrefix())) this.publishJournaled(sender, item);
    }
    for (const item of this.outbox.handOut(now, this.deps.maxInflight - (sender?.handedCount ?? 0))) this.publish(item);
    this.armAckTimer();
  }

  private publishJournaled(sender: JournalSender, item: HandedJournalMessage): void {
    this.deps.publish(item.packet).then(
      () => {
        if (this.closed) return; // a late PUBACK after close: the next client sends it again (at least once)
        sender.delivered(item);
        this.afterSettled();
      },
      (error: unknown) => {
        if (this.closed) return; // the journal keeps it for the next client
        if (notWritten(error)) sender.giveBack(item);
        else sender.failed(item, new HubError('invalid-argument', `telemetry could not be sent: ${errorText(error)}`, { cause: error }));
        this.afterSettled();
      },
    );
  }

  private publish(item: OutgoingTelemetry): void {
    this.deps.publish(item.packet).then(
      () => {
        this.outbox.done(item);
        item.resolve();
        this.afterSettled();
      },
      (error: unknown) => {
        if (this.closed) {
          this.outbox.done(item);
          item.reject(closedError('before the message was acknowledged'));
          return;
        }
        if (notWritten(error)) {
          this.outbox.giveBack(item); // never written, or written on a connection whose session will not resend it
        } else {
          this.outbox.done(item);
          item.reject(new HubError('invalid-argument', `telemetry could not be sent: ${errorText(error)}`, { cause: error }));
        }
        this.afterSettled();
      },
    );
  }

  private afterSettled(): void {
    this.deps.onSettled();
    this.pump();
  }

  private armAckTimer(): void {
    if (this.deps.ackTimeoutMs === 0 || this.ackTimer !== undefined || !this.deps.canSend()) return;
    const oldest = this.oldestUnacknowledged();
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest + this.deps.ackTimeoutMs - this.deps.timers.now());
    this.ackTimer = this.deps.timers.setTimeout(() => {
      this.ackTimer = undefined;
      this.onAckTimer();
    }, delay);
  }

  private onAckTimer(): void {
    if (!this.deps.canSend()) return;
    const oldest = this.oldestUnacknowledged();
    if (oldest !== undefined && this.deps.timers.now() - oldest >= this.deps.ackTimeoutMs) {
      this.deps.log('warn', `no PUBACK within ${this.deps.ackTimeoutMs} ms: reconnecting to resend`);
      this.deps.onStuck();
      return;
    }
    this.armAckTimer();
  }

  private oldestUnacknowledged(): number | undefined {
    const a = this.outbox.oldestUnacknowledged();
    const b = this.sender?.oldestUnacknowledged();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  private clearAckTimer(): void {
    if (this.ackTimer !== undefined) this.deps.timers.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }
}
