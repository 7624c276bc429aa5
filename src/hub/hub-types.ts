// The hub client's public vocabulary: the ports it needs, its events, handler shapes and call options.

import type { CryptoPort, Logger, Timers, TransportFactory, WallClock } from '../ports';
import type { SessionCloseReason } from '../mqtt/session-types';
import type { JsonObject } from '../azure/json';
import type { PropertyInput, Property } from '../azure/property-bag';
import type { HubError } from './hub-error';
import type { HubState } from './hub-state';
import type { Result } from '../result';
import type { JournalSender, JournalSenderDeps } from './journal-sender';

export interface HubClientPorts {
  transport: TransportFactory;
  timers: Timers;
  clock: WallClock;
  crypto: CryptoPort;
  logger?: Logger;
}

export type HubDisconnectCode =
  | 'renewal' // planned: a new SAS token; the client reconnects at once
  | 'connection-lost' // the network, the hub or keep-alive ended it
  | 'ack-timeout' // planned: a QoS 1 message went unacknowledged too long; the client reconnects with backoff
  | 'closed'; // close()

export interface HubDisconnectReason {
  code: HubDisconnectCode;
  message: string;
  /** What the MQTT session reported, when the session closed. */
  session?: SessionCloseReason;
}

/** What an incoming message was, as far as its topic tells ('unknown' when the topic itself was over the limit). */
export type IncomingKind = 'c2d' | 'method' | 'twin' | 'unknown';

export interface HubClientEvents {
  state: { state: HubState; previous: HubState };
  connected: { sessionPresent: boolean };
  disconnected: { reason: HubDisconnectReason };
  reconnecting: { attempt: number; delayMs: number };
  error: HubError;
  /** A message over the device's limits (packet, C2D or method body), not delivered; `size` in bytes. */
  'message-refused': { kind: IncomingKind; size: number; limit: number };
  /** The telemetry journal after each flush and each drop (only with a journal). */
  journal: JournalStatus;
}

/** What the telemetry journal reports. */
export interface JournalStatus {
  /** Messages kept and not acknowledged. */
  depth: number;
  /** Store bytes the segments holding them take. */
  bytes: number;
  /** Seconds since the oldest of them was appended; undefined when empty or the clock is unset. */
  oldestAgeSeconds: number | undefined;
  /** Messages given up because the journal was full ('drop-oldest'), over its life. */
  dropped: number;
  budgetBytes: number;
}

/** One journaled message as the journal gives it back. */
export interface JournaledMessage {
  seq: number;
  qos: 0 | 1;
  /** The topic after `.../messages/events/`, `$.mid` included. */
  bag: string;
  payload: Uint8Array;
}

/**
 * Where telemetry waits for its PUBACK across outages and reboots: src/storage/telemetry-journal.ts on the store
 * port. Shared by every client the boot flow opens, one at a time.
 */
export interface JournalPort {
  nextMessageId(): string;
  append(qos: 0 | 1, bag: string, payload: Uint8Array): Result<number, { code: string; message: string }>;
  acknowledge(seq: number): void;
  read(fromSeq: number, max: number): JournaledMessage[];
  flush(): Result<undefined, { message: string }>;
  isPending(seq: number): boolean;
  readonly firstUnacknowledged: number | undefined;
  readonly journaledBelow: number;
  readonly dirty: boolean;
  /** The drop count alone, cheaply. */
  readonly dropped: number;
  stats(): JournalStatus;
}

/**
 * A journal with the sender that feeds the session from it (src/hub/journal-sender.ts's `journaling`). The host
 * that keeps telemetry on flash builds one; the hub client imports neither, so an image without a journal
 * carries neither one's code.
 */
export interface Journaling {
  readonly port: JournalPort;
  sender(deps: Omit<JournalSenderDeps, 'journal'>): JournalSender;
}

export interface TelemetrySystemProperties {
  /** $.mid */
  messageId?: string;
  /** $.cid */
  correlationId?: string;
  /** $.ct, e.g. `application/json`: send it (and contentEncoding) with JSON bodies so hub routing can read them. */
  contentType?: string;
  /** $.ce, e.g. `utf-8` */
  contentEncoding?: string;
  /** $.sub: the IoT Plug and Play component that sends this message. */
  component?: string;
  /** $.ctime: ISO 8601 text, or Unix ms. */
  creationTime?: string | number;
}

export interface TelemetryOptions {
  /** Application properties, in the topic's property bag. */
  properties?: PropertyInput;
  systemProperties?: TelemetrySystemProperties;
  /** Default 1: resolved on PUBACK. 0 resolves once written. */
  qos?: 0 | 1;
  /**
   * With a journal (HubClientConfig.journal): false keeps this message in RAM only (e.g. QoS 0 readings not worth
   * flash). Default true.
   */
  journal?: boolean;
  /**
   * With a journal: 'journaled' (default) resolves once the message is on flash (or acknowledged, if sooner);
   * 'acknowledged' waits for the hub's PUBACK.
   */
  resolveOn?: 'journaled' | 'acknowledged';
}

export interface C2dMessage {
  payload: Uint8Array;
  /** Application properties (not `$.`- or `iothub-`-prefixed), in topic order. */
  properties: Property[];
  /** Every property the topic carried, system ones included. */
  allProperties: Property[];
  messageId?: string;
  correlationId?: string;
  contentType?: string;
  contentEncoding?: string;
  /** The hub may deliver a message again after a reconnect (at least once). */
  redelivered: boolean;
}

/** The PUBACK that completes the message waits for this to return (or for its promise to settle). */
export type C2dHandler = (message: C2dMessage) => void | Promise<void>;

export interface DesiredInfo {
  /** True for the whole desired section from a twin GET (after a connect), false for an incremental patch. */
  full: boolean;
}

export type DesiredHandler = (patch: JsonObject, version: number, info: DesiredInfo) => void | Promise<void>;
