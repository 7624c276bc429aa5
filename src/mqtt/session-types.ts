// The MQTT session's public vocabulary: what connect() takes, the session's tuning, its events and close reasons.

import type { Logger, TimerHandle, Timers, TlsConnectOptions, TransportError, TransportFactory } from '../ports';
import type { ConnectPacket, QoS } from './packets';
import type { SessionState } from './session-state';
import type { MqttSessionError } from './session-errors';

export type { TimerHandle };

/** The CONNECT's fields (client id, keepalive, credentials, will), plus where and how long to try. */
export interface MqttConnectOptions extends Omit<ConnectPacket, 'type'> {
  tls: TlsConnectOptions;
  /** false keeps the broker-side session and this client's QoS 1 in-flight table across reconnects. */
  cleanSession: boolean;
  /** Limit from connect() to CONNACK, transport set-up included. Default 30 000 ms. */
  connectTimeoutMs?: number;
}

export interface MqttSessionDeps {
  transport: TransportFactory;
  timers: Timers;
  logger?: Logger;
}

export interface MqttSessionOptions {
  /** QoS 1 PUBLISHes sent and not yet acknowledged, at most. Default 16. */
  maxInflight?: number;
  /** PUBLISHes waiting for the in-flight window or the transport, at most; beyond it publish() rejects 'queue-full'. Default 64. */
  maxQueued?: number;
  /** After a PINGREQ, how long to wait for any packet before declaring the peer dead. Default 10 000 ms. */
  pingTimeoutMs?: number;
  /** How long disconnect() waits for DISCONNECT to be written before closing anyway. Default 5 000 ms. */
  disconnectTimeoutMs?: number;
  /**
   * Largest packet accepted from the broker, in bytes; passed to the stream parser. A PUBLISH over it is skipped
   * and reported on 'oversized'; any other packet over it is a protocol error. Default: the codec's (263,168).
   */
  maxPacketSize?: number;
}

export interface PublishOptions {
  /** 0 or 1; 2 is refused with MqttSessionError 'qos2-unsupported'. The type admits 2 so callers get a typed refusal. */
  qos?: QoS | 2;
  retain?: boolean;
}

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** The broker says it may have delivered this before; it is delivered again (at-least-once). */
  dup: boolean;
  packetId?: number;
}

/**
 * Runs once per incoming PUBLISH. For QoS 1 the PUBACK goes out only after it returns, or after its promise
 * settles. A throw or rejection is reported through the 'error' event and the message is still acknowledged.
 */
export type MessageHandler = (message: IncomingMessage) => void | Promise<void>;

export type SessionCloseCode =
  | 'peer-closed' // the broker or the network ended the connection cleanly
  | 'transport-error' // TCP/TLS failure (see transportError)
  | 'connect-timeout' // the transport did not open within connectTimeoutMs
  | 'connack-timeout' // no CONNACK within connectTimeoutMs
  | 'connack-refused' // CONNACK with a non-zero return code (see returnCode)
  | 'ping-timeout' // no answer to PINGREQ: dead peer
  | 'protocol-error' // the broker sent bytes or packets MQTT 3.1.1 (as we speak it) forbids
  | 'local'; // disconnect() was called

export interface SessionCloseReason {
  code: SessionCloseCode;
  message: string;
  transportError?: TransportError;
  /** CONNACK return code, for 'connack-refused'. */
  returnCode?: number;
  /** The codec's error code, for a 'protocol-error' that came from the parser. */
  protocolErrorCode?: string;
}

/** An incoming PUBLISH skipped for its size (never buffered); at QoS 1 it was acknowledged all the same. */
export interface OversizedPublish {
  /** Undefined when the topic itself was longer than the limit. */
  topic: string | undefined;
  qos: QoS;
  packetId?: number;
  /** The whole packet, in bytes. */
  size: number;
  /** The session's maxPacketSize. */
  limit: number;
}

export interface MqttSessionEvents {
  state: { state: SessionState; previous: SessionState };
  connected: { sessionPresent: boolean };
  message: IncomingMessage;
  oversized: OversizedPublish;
  close: { reason: SessionCloseReason };
  error: MqttSessionError;
}
