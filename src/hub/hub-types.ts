// The hub client's public vocabulary: the ports it needs, its events, handler shapes and call options.

import type { CryptoPort, Logger, Timers, TransportFactory, WallClock } from '../ports';
import type { SessionCloseReason } from '../mqtt/session-types';
import type { JsonObject } from '../azure/json';
import type { PropertyInput, Property } from '../azure/property-bag';
import type { HubError } from './hub-error';
import type { HubState } from './hub-state';

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
