// The MQTT 3.1.1 client session: owns one transport connection at a time, its timers and the packet flows
// (CONNECT/CONNACK, keepalive, QoS 0/1 publish, subscribe, incoming messages). Lifecycle decisions go through the
// pure transition table in session-state.ts; everything else here is bookkeeping around it.
//
// Choices the layers above rely on:
// - No automatic reconnect. The owner calls connect() again on the same object after a close.
// - QoS 1 publishes not yet acknowledged (sent or still queued) survive a close when the closed connection had
//   cleanSession false; after the next accepted CONNACK the sent ones go out again with DUP set, in their original
//   order, before anything new. With cleanSession true they are rejected on close. QoS 0 never outlives a connection.
//   abandonPending() rejects them all whenever the owner gives up.
// - Incoming QoS 1: PUBACK after the message handler returned or its promise settled, in arrival order. A failing
//   handler is reported on 'error' and the message is still acknowledged: otherwise the broker would redeliver a
//   poison message forever; retrying is the handler's business. If the connection dropped meanwhile the PUBACK
//   is not sent and the broker redelivers (at-least-once).
// - Every returned promise settles: close rejects whatever the connection was waiting for with a typed error.
// - Nothing throws into the event loop: transport callbacks, timers and handler failures end in events.
// - Received bytes are handled on a later job (a promise job, after the transport's callback has returned), not
//   inside onData: the host's read callback and its TLS frames are off the stack before any packet handler runs,
//   so the XS stack needed is the handlers' own. Chunks (not packets) wait, in order; a close or error reported
//   while chunks wait is handled after them, so packets that arrived before a close are still seen.
// - An incoming PUBLISH over maxPacketSize is skipped while it streams (never buffered), reported on 'oversized'
//   (topic and size, never payload) and, at QoS 1, acknowledged in arrival order like any message: this device can
//   never accept it, and an unacknowledged one would be redelivered on every reconnect (IoT Hub's C2D queue would
//   also hold every later message behind it). The connection stays up.
// - A QoS 1 message is held once, as its encoded PUBLISH: the same bytes wait in the queue, go out, stay in flight
//   and are resent with DUP set. encodePublish() + publishEncoded() let the owner keep a reference to those same
//   bytes (the hub's outbox does) instead of the payload.

import { errorText, isThenable } from '../errors';
import { Emitter } from '../events';
import type { Logger, Timers, TimerHandle, Transport, TransportCloseReason, TransportError, TransportEvents, TransportFactory } from '../ports';
import { encodePacket, encodePublish as encodePublishBytes, lengthFieldSize } from './encode';
import { InflightTable } from './inflight';
import type { Settle } from './inflight';
import type { ConnackPacket, Packet, PublishPacket, QoS, SubackCode, SubackPacket, Subscription } from './packets';
import { PacketIdAllocator } from './packet-ids';
import { MqttStreamParser, DEFAULT_MAX_PACKET_SIZE } from './stream-parser';
import type { SkippedPublish, StreamResult } from './stream-parser';
import { AckOrder } from './session-ack-order';
import type { AckTicket } from './session-ack-order';
import { MqttConnectError, MqttSessionError, describeReturnCode } from './session-errors';
import { clearPublishDup, setPublishDup, setPublishPacketId } from './session-publish-bytes';
import { hasConnection, sessionMachine } from './session-state';
import type { SessionInput, SessionState } from './session-state';
import type {
  IncomingMessage,
  MessageHandler,
  MqttConnectOptions,
  MqttSessionDeps,
  MqttSessionEvents,
  MqttSessionOptions,
  PublishOptions,
  SessionCloseReason,
} from './session-types';

const DEFAULT_MAX_INFLIGHT = 16;
const DEFAULT_MAX_QUEUED = 64;
const DEFAULT_PING_TIMEOUT_MS = 10_000;
const DEFAULT_DISCONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A packet waiting for the transport to drain; `onWritten` runs once it was handed to write(). */
interface Frame {
  bytes: Uint8Array;
  onWritten?: () => void;
}

/** A PUBLISH encoded once, for publishEncoded(); the session patches its packet id and DUP flag in place. */
export interface EncodedPublish {
  readonly qos: QoS;
  readonly bytes: Uint8Array;
}

/** Encodes a PUBLISH for publishEncoded(); throws the codec's MqttProtocolError for a bad topic or payload. */
export function encodePublish(topic: string, payload: Uint8Array, options: { qos: QoS; retain?: boolean }): EncodedPublish {
  // QoS 1 gets a placeholder id: the real one is assigned when the message enters the in-flight window.
  const bytes = encodePublishBytes(topic, payload, options.qos, false, options.retain === true, options.qos === 1 ? 1 : undefined);
  return { qos: options.qos, bytes };
}

/** The size encodePublish() will give, from the topic's UTF-8 length: budgets are checked before encoding. */
export function encodedPublishSize(topicBytes: number, payloadBytes: number, qos: QoS): number {
  const remaining = 2 + topicBytes + (qos === 1 ? 2 : 0) + payloadBytes;
  return 1 + lengthFieldSize(remaining) + remaining;
}

type Inbound = Uint8Array | { close: SessionCloseReason };

interface QueuedPublish {
  qos: QoS;
  /** Encoded at publish() time; for QoS 1 the packet id is patched in when it leaves the queue. */
  bytes: Uint8Array;
  settle: Settle;
}

type PendingRequest =
  | { kind: 'subscribe'; filters: number; settle: Deferred<SubackCode[]> | undefined }
  | { kind: 'unsubscribe'; settle: Deferred<void> | undefined };

/** Everything that lives and dies with one transport connection. */
interface Connection {
  readonly options: MqttConnectOptions;
  readonly connectTimeoutMs: number;
  readonly connectBytes: Uint8Array;
  readonly parser: MqttStreamParser;
  readonly acks: AckOrder;
  readonly outcome: Deferred<{ sessionPresent: boolean }>;
  readonly closeWaiters: Array<() => void>;
  readonly outbox: Frame[];
  /** Received chunks (and a close reported behind them) waiting for the next job, in arrival order. */
  readonly inbound: Inbound[];
  inboundScheduled: boolean;
  transport: Transport | undefined;
  /** onConnect arrived before TransportFactory.connect returned the transport. */
  openedEarly: boolean;
  writable: boolean;
  outcomeSettled: boolean;
  lastSentAt: number;
  connectTimer?: TimerHandle;
  keepAliveTimer?: TimerHandle;
  pingTimer?: TimerHandle;
  disconnectTimer?: TimerHandle;
}

function optionInteger(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new MqttSessionError('invalid-argument', `${name} must be an integer of at least ${min}`);
  }
  return value;
}

export class MqttSession extends Emitter<MqttSessionEvents> {
  private readonly transportFactory: TransportFactory;
  private readonly timers: Timers;
  private readonly logger: Logger | undefined;
  private readonly maxInflight: number;
  private readonly maxQueued: number;
  private readonly pingTimeoutMs: number;
  private readonly disconnectTimeoutMs: number;
  private readonly maxPacketSize: number;

  private readonly machine = sessionMachine((message) => this.log('error', message));
  private conn: Connection | undefined;
  private readonly ids = new PacketIdAllocator();
  private readonly inflight = new InflightTable();
  private readonly queue: QueuedPublish[] = [];
  private readonly requests = new Map<number, PendingRequest>();
  private handler: MessageHandler | undefined;

  /** Throws MqttSessionError 'invalid-argument' for options out of range (a programming error, caught at start-up). */
  constructor(deps: MqttSessionDeps, options: MqttSessionOptions = {}) {
    super();
    this.transportFactory = deps.transport;
    this.timers = deps.timers;
    this.logger = deps.logger;
    this.maxInflight = optionInteger('maxInflight', options.maxInflight, DEFAULT_MAX_INFLIGHT, 1);
    this.maxQueued = optionInteger('maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED, 0);
    this.pingTimeoutMs = optionInteger('pingTimeoutMs', options.pingTimeoutMs, DEFAULT_PING_TIMEOUT_MS, 1);
    this.disconnectTimeoutMs = optionInteger('disconnectTimeoutMs', options.disconnectTimeoutMs, DEFAULT_DISCONNECT_TIMEOUT_MS, 1);
    this.maxPacketSize = optionInteger('maxPacketSize', options.maxPacketSize, DEFAULT_MAX_PACKET_SIZE, 2);
  }

  get state(): SessionState {
    return this.machine.state;
  }

  private get current(): SessionState {
    return this.machine.state;
  }

  /** QoS 1 publishes sent and awaiting PUBACK (including ones kept from a closed connection). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Publishes waiting for the in-flight window or the transport. */
  get queuedCount(): number {
    return this.queue.length;
  }

  /** The one consumer of incoming PUBLISHes whose completion gates the QoS 1 PUBACK (see the file comment). */
  setMessageHandler(handler: MessageHandler | undefined): void {
    this.handler = handler;
  }

  // ---- API: connect ---------------------------------------------------------------------------------------

  /**
   * Opens the transport, sends CONNECT and resolves on an accepted CONNACK. Rejects with MqttConnectError
   * (returnCode set when the broker refused) when the attempt ends any other way; the transport is then closed.
   */
  connect(options: MqttConnectOptions): Promise<{ sessionPresent: boolean }> {
    if (hasConnection(this.current)) {
      return Promise.reject(new MqttSessionError('invalid-state', `connect() called while ${this.current}`));
    }
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(new MqttSessionError('invalid-argument', 'connectTimeoutMs must be a positive number'));
    }
    let connectBytes: Uint8Array;
    try {
      connectBytes = encodePacket({
        type: 'connect',
        clientId: options.clientId,
        cleanSession: options.cleanSession,
        keepAlive: options.keepAlive,
        username: options.username,
        password: options.password,
        will: options.will,
      });
    } catch (error) {
      return Promise.reject(error);
    }

    const conn: Connection = {
      options,
      connectTimeoutMs: timeoutMs,
      connectBytes,
      parser: new MqttStreamParser({ maxPacketSize: this.maxPacketSize }),
      acks: new AckOrder(),
      outcome: deferred(),
      closeWaiters: [],
      outbox: [],
      inbound: [],
      inboundScheduled: false,
      transport: undefined,
      openedEarly: false,
      writable: true,
      outcomeSettled: false,
      lastSentAt: this.timers.now(),
    };
    this.conn = conn;
    const previous = this.move('connect');
    conn.connectTimer = this.timers.setTimeout(() => this.onConnectTimeout(conn), timeoutMs);
    this.emitState(previous);
    if (this.conn !== conn) return conn.outcome.promise; // a state listener already ended it

    const events: TransportEvents = {
      onConnect: () => this.onTransportOpen(conn),
      onData: (chunk) => this.onTransportData(conn, chunk),
      onWritable: () => this.onTransportWritable(conn),
      onError: (error) => this.onTransportError(conn, error),
      onClose: (reason) => this.onTransportClose(conn, reason),
    };
    let transport: Transport;
    try {
      transport = this.transportFactory.connect(options.tls, events);
    } catch (error) {
      this.finish(conn, { code: 'transport-error', message: `opening the transport failed: ${errorText(error)}` });
      return conn.outcome.promise;
    }
    conn.transport = transport;
    if (this.conn !== conn) {
      // It failed synchronously inside connect(); make sure the host lets go of it.
      this.closeQuietly(transport);
    } else if (conn.openedEarly) {
      this.onTransportOpen(conn);
    }
    return conn.outcome.promise;
  }

  // ---- API: publish, subscribe, unsubscribe -----------------------------------------------------------------

  /**
   * QoS 0 resolves once the bytes are handed to the transport; QoS 1 once the PUBACK arrives. Rejects with
   * MqttSessionError ('qos2-unsupported', 'not-connected', 'queue-full', 'connection-closed', 'abandoned') or
   * with the codec's MqttProtocolError when the topic or payload cannot be encoded. Nothing is sent on rejection.
   */
  publish(topic: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const qos = options.qos ?? 0;
    if (qos === 2) {
      return Promise.reject(new MqttSessionError('qos2-unsupported', 'QoS 2 is not supported: publish with QoS 0 or 1'));
    }
    if (qos !== 0 && qos !== 1) {
      return Promise.reject(new MqttSessionError('invalid-argument', 'publish qos must be 0 or 1'));
    }
    if (this.current !== 'connected') {
      return Promise.reject(new MqttSessionError('not-connected', `publish() while ${this.current}`));
    }
    let encoded: EncodedPublish;
    try {
      encoded = encodePublish(topic, payload, { qos, retain: options.retain === true });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.publishEncoded(encoded);
  }

  /**
   * Sends a PUBLISH made by encodePublish(), settling like publish(). The session keeps and patches those very
   * bytes (packet id, DUP), so the caller may hold the same reference but must not change it. DUP is cleared on
   * entry: a message given back after a closed clean session starts over as a new one.
   */
  publishEncoded(encoded: EncodedPublish): Promise<void> {
    const qos = encoded.qos;
    if (qos !== 0 && qos !== 1) {
      return Promise.reject(new MqttSessionError('invalid-argument', 'publish qos must be 0 or 1'));
    }
    if (this.current !== 'connected') {
      return Promise.reject(new MqttSessionError('not-connected', `publish() while ${this.current}`));
    }
    const bytes = encoded.bytes;
    clearPublishDup(bytes);
    const done = deferred<void>();
    const entry: QueuedPublish = { qos, bytes, settle: done };
    this.queue.push(entry);
    this.pump();
    if (this.queue.length > this.maxQueued && this.queue[this.queue.length - 1] === entry) {
      this.queue.pop();
      done.reject(new MqttSessionError('queue-full', `publish queue is full (${this.maxQueued} waiting)`));
    }
    return done.promise;
  }

  /**
   * Resolves with the broker's SUBACK codes, one per filter in order; 0x80 (refused) is reported, not thrown.
   */
  subscribe(subscriptions: Subscription[]): Promise<SubackCode[]> {
    if (!Array.isArray(subscriptions) || subscriptions.length === 0) {
      return Promise.reject(new MqttSessionError('invalid-argument', 'subscribe() needs at least one filter'));
    }
    if (subscriptions.some((s) => (s.qos as number) === 2)) {
      return Promise.reject(new MqttSessionError('qos2-unsupported', 'QoS 2 subscriptions are not supported'));
    }
    const settle = deferred<SubackCode[]>();
    const copy = subscriptions.map((s) => ({ topic: s.topic, qos: s.qos }));
    const sent = this.request((packetId) => encodePacket({ type: 'subscribe', packetId, subscriptions: copy }), {
      kind: 'subscribe',
      filters: copy.length,
      settle,
    });
    return sent ?? settle.promise;
  }

  /** Resolves on UNSUBACK. */
  unsubscribe(topics: string[]): Promise<void> {
    if (!Array.isArray(topics) || topics.length === 0) {
      return Promise.reject(new MqttSessionError('invalid-argument', 'unsubscribe() needs at least one filter'));
    }
    const settle = deferred<void>();
    const copy = topics.slice();
    const sent = this.request((packetId) => encodePacket({ type: 'unsubscribe', packetId, topics: copy }), {
      kind: 'unsubscribe',
      settle,
    });
    return sent ?? settle.promise;
  }

  /** Sends a request that waits for an ack by packet id; returns a rejected promise if it could not be sent. */
  private request(encode: (packetId: number) => Uint8Array, pending: PendingRequest): Promise<never> | undefined {
    const conn = this.conn;
    if (conn === undefined || this.current !== 'connected') {
      return Promise.reject(new MqttSessionError('not-connected', `${pending.kind}() while ${this.current}`));
    }
    const packetId = this.ids.allocate();
    if (packetId === undefined) {
      return Promise.reject(new MqttSessionError('packet-ids-exhausted', 'all 65535 packet ids are in use'));
    }
    let bytes: Uint8Array;
    try {
      bytes = encode(packetId);
    } catch (error) {
      this.ids.release(packetId);
      return Promise.reject(error);
    }
    this.requests.set(packetId, pending);
    this.send(conn, bytes);
    return undefined;
  }

  // ---- API: disconnect, abandonPending -----------------------------------------------------------------------

  /**
   * Orderly close: DISCONNECT, then the transport. Resolves once the session is closed (never rejects).
   * Before CONNACK it simply abandons the attempt (connect() rejects with reason 'local').
   */
  disconnect(): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) return Promise.resolve();
    if (this.current === 'connecting' || this.current === 'awaiting-connack') {
      this.finish(conn, { code: 'local', message: 'disconnect() before the connection was accepted' });
      return Promise.resolve();
    }
    const closed = new Promise<void>((resolve) => conn.closeWaiters.push(resolve));
    if (this.current === 'connected') {
      const previous = this.move('disconnect');
      this.stopKeepAlive(conn);
      conn.disconnectTimer = this.timers.setTimeout(
        () => this.finish(conn, { code: 'local', message: 'DISCONNECT could not be written in time; closed anyway' }),
        this.disconnectTimeoutMs,
      );
      this.emitState(previous);
      if (this.conn === conn) {
        this.send(conn, encodePacket({ type: 'disconnect' }), () =>
          this.finish(conn, { code: 'local', message: 'disconnected by the client' }),
        );
      }
    }
    return closed;
  }

  /**
   * Rejects every pending publish (queued, in flight, or kept for resending) and every pending subscribe and
   * unsubscribe with MqttSessionError 'abandoned'. Ids the live connection's broker may still acknowledge stay
   * reserved until it does, so a late ack is not mistaken for a protocol error. A pending connect() is not
   * affected: use disconnect() for that.
   */
  abandonPending(message = 'abandoned by the session owner'): void {
    const error = (): MqttSessionError => new MqttSessionError('abandoned', message);
    const live = this.current === 'connected' || this.current === 'disconnecting';
    for (const queued of this.queue.splice(0)) queued.settle.reject(error());
    for (const entry of this.inflight.list()) {
      entry.settle?.reject(error());
      entry.settle = undefined;
      if (!live) {
        this.inflight.take(entry.packetId);
        this.ids.release(entry.packetId);
      }
    }
    for (const [packetId, pending] of Array.from(this.requests)) {
      pending.settle?.reject(error());
      pending.settle = undefined;
      if (!live) {
        this.requests.delete(packetId);
        this.ids.release(packetId);
      }
    }
  }

  // ---- Transport callbacks --------------------------------------------------------------------------------

  private onTransportOpen(conn: Connection): void {
    if (this.conn !== conn || this.current !== 'connecting') return;
    if (conn.transport === undefined) {
      conn.openedEarly = true;
      return;
    }
    const previous = this.move('transport-open');
    this.emitState(previous);
    if (this.conn === conn) this.send(conn, conn.connectBytes);
  }

  private onTransportData(conn: Connection, chunk: Uint8Array): void {
    if (this.conn !== conn) return;
    if (this.current === 'connecting') {
      this.protocolError(conn, 'bytes arrived before the transport reported it was open');
      return;
    }
    conn.inbound.push(chunk);
    this.scheduleInbound(conn);
  }

  /** Runs the inbound queue on a promise job: after the transport callback returned, before any timer. */
  private scheduleInbound(conn: Connection): void {
    if (conn.inboundScheduled) return;
    conn.inboundScheduled = true;
    void Promise.resolve().then(() => this.drainInbound(conn));
  }

  private drainInbound(conn: Connection): void {
    conn.inboundScheduled = false;
    while (this.conn === conn && conn.inbound.length > 0) {
      const item = conn.inbound.shift() as Inbound;
      try {
        if (item instanceof Uint8Array) this.onChunk(conn, item);
        else this.finish(conn, item.close);
      } catch (error) {
        // Handlers and listeners are already guarded; reaching this is a bug here, and must not leave the link half-handled.
        this.log('error', `handling received bytes failed: ${errorText(error)}`);
        this.protocolError(conn, `handling received bytes failed: ${errorText(error)}`);
      }
    }
    if (this.conn !== conn) conn.inbound.length = 0;
  }

  private onChunk(conn: Connection, chunk: Uint8Array): void {
    let results: StreamResult[];
    try {
      results = conn.parser.push(chunk);
    } catch (error) {
      this.protocolError(conn, `the stream parser failed: ${errorText(error)}`);
      return;
    }
    for (const result of results) {
      if (this.conn !== conn) return;
      if (!result.ok) {
        if ('skipped' in result) {
          this.onSkippedPublish(conn, result.skipped);
          continue;
        }
        this.protocolError(conn, `bad packet from the broker: ${result.error.message}`, result.error.code);
        return;
      }
      this.onPacket(conn, result.value);
    }
  }

  /**
   * A close or error the transport reports: handled at once when nothing received is waiting, else queued behind
   * those bytes (writes stop meanwhile) so the packets that came before it are handled first.
   */
  private onTransportEnded(conn: Connection, reason: SessionCloseReason): void {
    if (conn.inbound.length === 0) {
      this.finish(conn, reason);
      return;
    }
    conn.writable = false;
    conn.inbound.push({ close: reason });
    this.scheduleInbound(conn);
  }

  private onTransportWritable(conn: Connection): void {
    if (this.conn !== conn) return;
    if (conn.inbound.some((item) => !(item instanceof Uint8Array))) return; // the transport is already gone
    conn.writable = true;
    this.flushOutbox(conn);
    this.pump();
  }

  private onTransportError(conn: Connection, error: TransportError): void {
    if (this.conn !== conn) return;
    this.onTransportEnded(conn, {
      code: 'transport-error',
      message: `transport failed (${error.code}): ${error.message}`,
      transportError: { code: error.code, message: error.message },
    });
  }

  private onTransportClose(conn: Connection, reason: TransportCloseReason): void {
    if (this.conn !== conn) return;
    if (reason.by === 'peer') {
      this.onTransportEnded(conn, { code: 'peer-closed', message: `connection closed by the peer: ${reason.message}` });
    } else {
      const transportError: TransportError = { code: reason.code ?? 'other', message: reason.message };
      this.onTransportEnded(conn, { code: 'transport-error', message: `transport closed: ${reason.message}`, transportError });
    }
  }

  // ---- Incoming packets -----------------------------------------------------------------------------------

  private onPacket(conn: Connection, packet: Packet): void {
    this.noteTraffic(conn);
    if (this.current === 'awaiting-connack') {
      if (packet.type === 'connack') this.onConnack(conn, packet);
      else this.protocolError(conn, `${packet.type.toUpperCase()} arrived before CONNACK`);
      return;
    }
    switch (packet.type) {
      case 'publish': return this.onIncomingPublish(conn, packet);
      case 'puback': return this.onPuback(conn, packet.packetId);
      case 'suback': return this.onSuback(conn, packet);
      case 'unsuback': return this.onUnsuback(conn, packet.packetId);
      case 'pingresp':
        return;
      case 'connack':
        this.protocolError(conn, 'a second CONNACK arrived');
        return;
      default:
        this.protocolError(conn, `a broker must not send ${packet.type.toUpperCase()}`);
    }
  }

  private onConnack(conn: Connection, packet: ConnackPacket): void {
    this.clearTimer(conn.connectTimer);
    conn.connectTimer = undefined;
    if (packet.returnCode !== 0) {
      this.finish(conn, {
        code: 'connack-refused',
        returnCode: packet.returnCode,
        message: `broker refused the connection: return code ${packet.returnCode} (${describeReturnCode(packet.returnCode)})`,
      });
      return;
    }
    const previous = this.move('connack-accepted');
    // Resend before anything else can be queued: MQTT wants unacknowledged PUBLISHes first, in order.
    for (const entry of this.inflight.list()) {
      setPublishDup(entry.bytes);
      this.send(conn, entry.bytes);
    }
    this.armKeepAlive(conn);
    conn.outcomeSettled = true;
    this.log('info', `connected (session present: ${packet.sessionPresent})`);
    this.emitState(previous);
    this.emit('connected', { sessionPresent: packet.sessionPresent });
    conn.outcome.resolve({ sessionPresent: packet.sessionPresent });
    this.pump();
  }

  private onPuback(conn: Connection, packetId: number): void {
    const entry = this.inflight.take(packetId);
    if (entry === undefined) {
      this.protocolError(conn, `PUBACK for packet id ${packetId}, which is not in flight`);
      return;
    }
    this.ids.release(packetId);
    entry.settle?.resolve();
    this.pump();
  }

  private onSuback(conn: Connection, packet: SubackPacket): void {
    const pending = this.requests.get(packet.packetId);
    if (pending === undefined || pending.kind !== 'subscribe') {
      this.protocolError(conn, `SUBACK for packet id ${packet.packetId}, which has no SUBSCRIBE waiting`);
      return;
    }
    if (packet.granted.length !== pending.filters) {
      this.protocolError(conn, `SUBACK has ${packet.granted.length} return codes for ${pending.filters} filters`);
      return;
    }
    this.requests.delete(packet.packetId);
    this.ids.release(packet.packetId);
    pending.settle?.resolve(packet.granted.slice());
  }

  private onUnsuback(conn: Connection, packetId: number): void {
    const pending = this.requests.get(packetId);
    if (pending === undefined || pending.kind !== 'unsubscribe') {
      this.protocolError(conn, `UNSUBACK for packet id ${packetId}, which has no UNSUBSCRIBE waiting`);
      return;
    }
    this.requests.delete(packetId);
    this.ids.release(packetId);
    pending.settle?.resolve();
  }

  private onIncomingPublish(conn: Connection, packet: PublishPacket): void {
    if (packet.qos === 1 && packet.packetId === undefined) {
      this.protocolError(conn, 'QoS 1 PUBLISH without a packet id');
      return;
    }
    const message: IncomingMessage = { topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, dup: packet.dup };
    if (packet.packetId !== undefined) message.packetId = packet.packetId;
    const ticket = packet.qos === 1 ? conn.acks.expect(packet.packetId as number) : undefined;
    const done = (): void => {
      if (ticket !== undefined) this.onHandled(conn, ticket);
    };
    this.emit('message', message);
    const handler = this.handler;
    if (handler === undefined) {
      done();
      return;
    }
    let result: unknown;
    try {
      result = handler(message);
    } catch (error) {
      this.reportHandlerError(error, message);
      done();
      return;
    }
    if (!isThenable(result)) {
      done();
      return;
    }
    Promise.resolve(result).then(done, (error: unknown) => {
      this.reportHandlerError(error, message);
      done();
    });
  }

  private onSkippedPublish(conn: Connection, skipped: SkippedPublish): void {
    this.noteTraffic(conn);
    if (this.current === 'awaiting-connack') {
      this.protocolError(conn, 'PUBLISH arrived before CONNACK');
      return;
    }
    this.log('warn', `incoming PUBLISH of ${skipped.size} bytes skipped: over the ${this.maxPacketSize}-byte limit`);
    const event: MqttSessionEvents['oversized'] = { topic: skipped.topic, qos: skipped.qos, size: skipped.size, limit: this.maxPacketSize };
    if (skipped.packetId !== undefined) event.packetId = skipped.packetId;
    this.emit('oversized', event);
    if (this.conn === conn && skipped.packetId !== undefined) this.onHandled(conn, conn.acks.expect(skipped.packetId));
  }

  private onHandled(conn: Connection, ticket: AckTicket): void {
    const ready = conn.acks.complete(ticket);
    for (const packetId of ready) {
      // The connection that carried the message is gone: no PUBACK, the broker redelivers.
      if (this.conn !== conn) return;
      this.send(conn, encodePacket({ type: 'puback', packetId }));
    }
  }

  private reportHandlerError(error: unknown, message: IncomingMessage): void {
    this.reportError(
      new MqttSessionError('handler-failed', `message handler failed on topic ${message.topic}: ${errorText(error)}`, {
        cause: error,
      }),
    );
  }

  /** 'error' events with nobody listening still reach the log instead of vanishing. */
  private reportError(error: MqttSessionError): void {
    if (this.listenerCount('error') === 0) this.log('warn', error.message);
    this.emit('error', error);
  }

  // ---- Outgoing bytes -------------------------------------------------------------------------------------

  /** Writes now when the transport has room and nothing is waiting ahead, else queues behind what is waiting. */
  private send(conn: Connection, bytes: Uint8Array, onWritten?: () => void): void {
    if (conn.writable && conn.outbox.length === 0) this.write(conn, bytes, onWritten);
    else conn.outbox.push(onWritten === undefined ? { bytes } : { bytes, onWritten });
  }

  private write(conn: Connection, bytes: Uint8Array, onWritten?: () => void): void {
    const transport = conn.transport;
    if (transport === undefined || this.conn !== conn) return;
    let accepted: boolean;
    try {
      accepted = transport.write(bytes);
    } catch (error) {
      this.finish(conn, { code: 'transport-error', message: `transport write failed: ${errorText(error)}` });
      return;
    }
    conn.lastSentAt = this.timers.now();
    if (accepted === false) conn.writable = false;
    onWritten?.();
  }

  private flushOutbox(conn: Connection): void {
    while (this.conn === conn && conn.writable && conn.outbox.length > 0) {
      const frame = conn.outbox.shift() as Frame;
      this.write(conn, frame.bytes, frame.onWritten);
    }
  }

  /** Moves publishes from the queue to the wire while the in-flight window and the transport allow. */
  private pump(): void {
    const conn = this.conn;
    while (
      conn !== undefined &&
      this.conn === conn &&
      this.current === 'connected' &&
      conn.writable &&
      conn.outbox.length === 0 &&
      this.queue.length > 0
    ) {
      const head = this.queue[0];
      if (head.qos === 1) {
        if (this.inflight.size >= this.maxInflight) return;
        const packetId = this.ids.allocate();
        if (packetId === undefined) return; // every id is held; an ack will free one and call pump again
        this.queue.shift();
        setPublishPacketId(head.bytes, packetId);
        this.inflight.add({ packetId, bytes: head.bytes, settle: head.settle });
        this.write(conn, head.bytes);
      } else {
        this.queue.shift();
        this.write(conn, head.bytes);
        head.settle.resolve();
      }
    }
  }

  // ---- Timers ---------------------------------------------------------------------------------------------

  private onConnectTimeout(conn: Connection): void {
    conn.connectTimer = undefined;
    if (this.conn !== conn) return;
    if (this.current === 'connecting') {
      this.finish(conn, { code: 'connect-timeout', message: `the transport did not open within ${conn.connectTimeoutMs} ms` });
    } else if (this.current === 'awaiting-connack') {
      this.finish(conn, { code: 'connack-timeout', message: `no CONNACK within ${conn.connectTimeoutMs} ms` });
    }
  }

  /** Keepalive counts from the last byte SENT: MQTT requires the client to send something every period. */
  private armKeepAlive(conn: Connection): void {
    const periodMs = conn.options.keepAlive * 1000;
    if (periodMs <= 0 || conn.keepAliveTimer !== undefined || conn.pingTimer !== undefined) return;
    const delay = Math.max(0, conn.lastSentAt + periodMs - this.timers.now());
    conn.keepAliveTimer = this.timers.setTimeout(() => this.onKeepAliveDue(conn), delay);
  }

  private onKeepAliveDue(conn: Connection): void {
    conn.keepAliveTimer = undefined;
    if (this.conn !== conn || this.current !== 'connected') return;
    if (this.timers.now() - conn.lastSentAt < conn.options.keepAlive * 1000) {
      this.armKeepAlive(conn); // something was sent meanwhile; sleep until the new deadline
      return;
    }
    conn.pingTimer = this.timers.setTimeout(() => this.onPingTimeout(conn), this.pingTimeoutMs);
    this.send(conn, encodePacket({ type: 'pingreq' }));
  }

  private onPingTimeout(conn: Connection): void {
    conn.pingTimer = undefined;
    if (this.conn !== conn) return;
    this.finish(conn, { code: 'ping-timeout', message: `no answer to PINGREQ within ${this.pingTimeoutMs} ms` });
  }

  /** Any packet from the broker proves it alive: stop waiting for PINGRESP and resume the keepalive cycle. */
  private noteTraffic(conn: Connection): void {
    if (conn.pingTimer === undefined) return;
    this.clearTimer(conn.pingTimer);
    conn.pingTimer = undefined;
    if (this.current === 'connected') this.armKeepAlive(conn);
  }

  private stopKeepAlive(conn: Connection): void {
    this.clearTimer(conn.keepAliveTimer);
    this.clearTimer(conn.pingTimer);
    conn.keepAliveTimer = undefined;
    conn.pingTimer = undefined;
  }

  private clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.clearTimeout(handle);
  }

  // ---- Closing --------------------------------------------------------------------------------------------

  private protocolError(conn: Connection, message: string, protocolErrorCode?: string): void {
    const reason: SessionCloseReason = { code: 'protocol-error', message };
    if (protocolErrorCode !== undefined) reason.protocolErrorCode = protocolErrorCode;
    this.finish(conn, reason);
  }

  /**
   * Ends `conn` for good: detaches it first (so the transport's own onClose, even a re-entrant one, is ignored),
   * then settles every promise that depended on it, and only then tells listeners, who may call connect() again.
   */
  private finish(conn: Connection, reason: SessionCloseReason): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    const previous = this.move('closed');
    this.stopKeepAlive(conn);
    this.clearTimer(conn.connectTimer);
    this.clearTimer(conn.disconnectTimer);
    conn.connectTimer = undefined;
    conn.disconnectTimer = undefined;
    conn.outbox.length = 0;
    if (conn.transport !== undefined) this.closeQuietly(conn.transport);

    if (!conn.outcomeSettled) {
      conn.outcomeSettled = true;
      conn.outcome.reject(new MqttConnectError(reason));
    }
    const closedError = (): MqttSessionError =>
      new MqttSessionError('connection-closed', `connection closed: ${reason.message}`, { closeReason: reason });
    for (const [packetId, pending] of Array.from(this.requests)) {
      this.ids.release(packetId);
      pending.settle?.reject(closedError());
    }
    this.requests.clear();
    const keep = !conn.options.cleanSession;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const queued = this.queue[i];
      if (keep && queued.qos === 1) continue;
      this.queue.splice(i, 1);
      queued.settle.reject(closedError());
    }
    const dropped = this.inflight.removeWhere((entry) => !keep || entry.settle === undefined);
    for (const entry of dropped) {
      this.ids.release(entry.packetId);
      entry.settle?.reject(closedError());
    }
    for (const resolve of conn.closeWaiters.splice(0)) resolve();

    this.log(reason.code === 'local' ? 'info' : 'warn', `connection closed (${reason.code}): ${reason.message}`);
    this.emitState(previous);
    this.emit('close', { reason });
  }

  private closeQuietly(transport: Transport): void {
    try {
      transport.close();
    } catch (error) {
      this.log('warn', `transport close failed: ${errorText(error)}`);
    }
  }

  // ---- State and events -----------------------------------------------------------------------------------

  /** Applies a transition; returns the state it left (the caller emits once its bookkeeping is done). */
  private move(input: SessionInput): SessionState {
    const previous = this.current;
    this.machine.move(input);
    return previous;
  }

  private emitState(previous: SessionState): void {
    this.log('debug', `state ${previous} -> ${this.current}`);
    this.emit('state', { state: this.current, previous });
  }

  protected override listenerFailed(error: unknown, event: string): void {
    if (event === 'error') {
      this.log('error', `an 'error' listener threw: ${errorText(error)}`);
      return;
    }
    this.reportError(new MqttSessionError('listener-failed', `a '${event}' listener threw: ${errorText(error)}`, { cause: error }));
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.logger?.log(level, `mqtt: ${message}`);
  }
}
