// The Azure IoT Hub device client: one MQTT session to the hub (or an IoT Edge gateway), kept up for the life
// of the client. Around the session it adds what the hub needs:
// - on every connection, ONE SUBSCRIBE for C2D, methods, twin answers and desired patches; the twin GET that
//   catches up on desired changes made while away goes out as soon as its SUBACK arrives (the hub does not
//   promise to deliver an answer on a subscription it has not acknowledged), and so do twin calls that waited;
// - reconnects as the failure policy says (attempt-steps.ts decides, this file carries it out): backoff, the
//   throttling floor, or, for refused credentials, a stop until updateCredentials() or the slow retry;
// - SAS renewal as a planned reconnect at ~80 % of the token's life, after letting in-flight work finish, with
//   calls made meanwhile queued and replayed, so a renewal never fails or loses a call.
// This file is the composition root: the lifecycle moves through hub-state.ts's table; telemetry, the twin,
// methods and C2D each live in their own channel, and the topic router tells them their messages.

import { Emitter } from '../events';
import { errorText } from '../errors';
import type { LogLevel } from '../ports';
import { MqttSession } from '../mqtt/session';
import type { IncomingMessage, OversizedPublish } from '../mqtt/session-types';
import { buildReportedProperty, buildWritablePropertyAck, type WritablePropertyAck } from '../azure/pnp';
import type { JsonValue } from '../azure/json';
import { createRequestIdGenerator } from '../azure/request-id';
import { randomFromCrypto } from '../failure/backoff';
import { C2dChannel } from './c2d-channel';
import { resolveCredentials, type HubCredentials } from './credentials';
import { HubConnection } from './hub-connection';
import { HubError, closedError } from './hub-error';
import { connectSettingsFor, resolveSettings, type HubClientConfig } from './hub-settings';
import { isOnline, type HubState } from './hub-state';
import type { C2dHandler, DesiredHandler, HubClientEvents, HubClientPorts, IncomingKind, JournalStatus, TelemetryOptions } from './hub-types';
import { MethodChannel } from './method-channel';
import type { MethodHandler } from './method-dispatcher';
import { TelemetryChannel } from './telemetry-channel';
import { grantsTwinAnswers, hubSubscriptions, incomingKind, routeTopic } from './topic-router';
import { TwinChannel, type TwinDocument } from './twin-channel';

export class HubClient extends Emitter<HubClientEvents> {
  private readonly session: MqttSession;
  private readonly connection: HubConnection;
  private readonly telemetry: TelemetryChannel;
  private readonly twin: TwinChannel;
  private readonly methods: MethodChannel;
  private readonly c2d: C2dChannel;
  private closing: Promise<void> | undefined;

  /** Throws HubError 'invalid-config' when the configuration or credentials are unusable. */
  constructor(
    private readonly ports: HubClientPorts,
    config: HubClientConfig,
  ) {
    super();
    if (typeof config !== 'object' || config === null) throw new HubError('invalid-config', 'config must be an object');
    const settings = resolveSettings(config);
    if (!settings.ok) throw settings.error;
    const identity = resolveCredentials(config.credentials);
    if (!identity.ok) throw identity.error;
    const s = settings.value;
    const random = config.random ?? randomFromCrypto(ports.crypto);
    const { timers, transport, logger } = ports;
    this.session = new MqttSession(logger === undefined ? { transport, timers } : { transport, timers, logger }, {
      maxInflight: s.maxInflightTelemetry,
      maxPacketSize: s.maxIncomingPacketBytes,
    });
    const report = (error: HubError): void => this.report(error);
    const log = (level: LogLevel, message: string): void => this.log(level, message);
    const refuse = (kind: IncomingKind, size: number, limit: number): void => this.refuse(kind, size, limit);
    const onSettled = (): void => this.connection.checkDrain();
    const sendQos0 = (topic: string, payload: Uint8Array): Promise<void> => this.session.publish(topic, payload, { qos: 0 });
    this.telemetry = new TelemetryChannel({
      timers,
      maxPending: s.maxPendingTelemetry,
      maxInflight: s.maxInflightTelemetry,
      maxPendingBytes: s.maxPendingTelemetryBytes,
      ackTimeoutMs: s.ackTimeoutMs,
      publish: (packet) => this.session.publishEncoded(packet),
      canSend: () => this.state === 'connected',
      log,
      onStuck: () => this.connection.reconnectToResend(),
      onSettled,
      ...(config.journal === undefined
        ? {}
        : {
            journal: config.journal,
            journalFlushMs: s.journalFlushMs,
            topicPrefix: () => {
              const { deviceId, moduleId } = this.connection.identity;
              return moduleId === undefined ? `devices/${deviceId}/messages/events/` : `devices/${deviceId}/modules/${moduleId}/messages/events/`;
            },
            onJournal: (status: JournalStatus) => this.emit('journal', status),
          }),
    });
    this.twin = new TwinChannel({
      timers,
      send: sendQos0,
      canSend: () => this.state === 'connected',
      nextRid: createRequestIdGenerator(),
      random,
      backoff: s.backoff,
      operationTimeoutMs: s.operationTimeoutMs,
      maxPending: s.maxPendingTwinRequests,
      report,
      log,
      onSettled,
    });
    this.methods = new MethodChannel({
      timers,
      timeoutMs: s.methodTimeoutMs,
      maxPayloadBytes: s.maxMethodPayloadBytes,
      publish: sendQos0,
      canSend: () => isOnline(this.state) && this.session.state === 'connected',
      refuse,
      report,
      onSettled,
    });
    this.c2d = new C2dChannel({ maxPayloadBytes: s.maxC2dPayloadBytes, refuse, report, log, onSettled });
    this.connection = new HubConnection({
      ports,
      session: this.session,
      settings: s,
      connectSettings: connectSettingsFor(config, s),
      random,
      identity: identity.value,
      emit: (event, payload) => this.emit(event, payload),
      report,
      log,
      onUp: (current) => this.onConnected(current),
      onDown: () => {
        this.telemetry.onDisconnected();
        this.twin.onDisconnected();
      },
      idle: () => this.twin.inFlight === 0 && this.methods.runningCount === 0 && this.c2d.runningCount === 0 && this.telemetry.inFlight === 0,
    });
    this.session.setMessageHandler((message) => this.onMessage(message));
    this.session.on('error', (error) => this.log('warn', `mqtt: ${error.message}`));
    this.session.on('oversized', (skipped) => this.onOversized(skipped));
  }

  // ---- public API ---------------------------------------------------------------------------------------------

  get state(): HubState {
    return this.connection.state;
  }

  get deviceId(): string {
    return this.connection.identity.deviceId;
  }

  get moduleId(): string | undefined {
    return this.connection.identity.moduleId;
  }

  /** Telemetry accepted and not yet acknowledged (the journal's included). */
  get pendingTelemetry(): number {
    return this.telemetry.pendingCount;
  }

  /**
   * With a journal: writes the appends and acknowledgements waiting for the flush timer now (call it before
   * sleep). Returns the failure ('queue-full' naming the store's error), if the write failed; it is retried.
   */
  flushTelemetry(): HubError | undefined {
    return this.telemetry.flush();
  }

  /**
   * Starts the client and resolves once connected. Retryable failures are retried with backoff (reported as
   * 'reconnecting' and 'error' events) while this waits; refused credentials, a configuration error or a clock
   * that is not set reject it (without a clock the client keeps checking it in the background, sending nothing).
   */
  connect(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(closedError());
    if (this.state === 'connected') return Promise.resolve();
    return this.connection.connect();
  }

  /**
   * New credentials (a rotated key, a renewed certificate). After an authentication failure the client tries
   * again at once; otherwise they are used from the next connection (the next renewal at the latest).
   * Throws HubError 'invalid-config' when they are unusable; the old ones then stay in use.
   */
  updateCredentials(credentials: HubCredentials): void {
    const identity = resolveCredentials(credentials);
    if (!identity.ok) throw identity.error;
    this.connection.useIdentity(identity.value);
  }

  /**
   * Sends device-to-cloud telemetry. QoS 1 (the default) resolves on the hub's PUBACK; the message is resent after
   * a reconnect until acknowledged (at least once). Calls made while offline wait (bounded by maxPendingTelemetry
   * and maxPendingTelemetryBytes; beyond either: HubError 'queue-full', and 'too-large' for one message bigger
   * than the whole byte budget). Sizes, budgets and property names are checked before the message is encoded;
   * only the encoded PUBLISH is kept, not `body`.
   * With a journal (config.journal) the message is kept there instead, with a `$.mid` of its own when none is
   * given, and resolves once written to flash (`resolveOn: 'acknowledged'` waits for the PUBACK); messages go out
   * from the journal in order, after a reboot too; `journal: false` keeps one in RAM only.
   */
  sendTelemetry(body: Uint8Array | string, options: TelemetryOptions = {}): Promise<void> {
    if (this.state === 'closed') return Promise.reject(closedError());
    return this.telemetry.send(this.connection.identity, body, options);
  }

  /** The one C2D handler (replacing any earlier one). The message is completed (PUBACK) when it returns. */
  onC2D(handler: C2dHandler): () => void {
    return this.c2d.setHandler(handler);
  }

  /** Reads the whole twin. Waits while offline, within operationTimeoutMs. */
  getTwin(): Promise<TwinDocument> {
    return this.twin.getTwin();
  }

  /** Patches reported properties; resolves with their new $version. Waits while offline, within operationTimeoutMs. */
  patchReported(patch: Record<string, unknown>): Promise<number | undefined> {
    return this.twin.patchReported(patch);
  }

  /**
   * Desired-property changes, each applied once and in version order: the whole desired section after every
   * (re)connect when it is newer than what was applied (info.full), then incremental patches.
   */
  onDesired(handler: DesiredHandler): () => void {
    return this.twin.onDesired(handler);
  }

  /** Answers direct method `name` (`{component}*{command}` for Plug and Play commands). */
  onMethod(name: string, handler: MethodHandler): () => void {
    return this.methods.register(name, handler);
  }

  /** A Plug and Play command of `component` (the hub calls it `{component}*{command}`). */
  onCommand(component: string, command: string, handler: MethodHandler): () => void {
    return this.onMethod(`${component}*${command}`, handler);
  }

  /** Acknowledges a writable Plug and Play property (`{value, ac, av, ad}` under its name, in its component). */
  ackWritableProperty(ack: WritablePropertyAck): Promise<number | undefined> {
    const patch = buildWritablePropertyAck(ack);
    if (!patch.ok) return Promise.reject(new HubError('invalid-argument', patch.error.message, { field: patch.error.field, cause: patch.error }));
    return this.twin.patchReported(patch.value);
  }

  /** Reports one property, inside its Plug and Play component (with the `__t` marker) when one is given. */
  reportProperty(name: string, value: JsonValue, component?: string): Promise<number | undefined> {
    const patch = buildReportedProperty(name, value, component);
    if (!patch.ok) return Promise.reject(new HubError('invalid-argument', patch.error.message, { field: patch.error.field, cause: patch.error }));
    return this.twin.patchReported(patch.value);
  }

  /** Ends everything: pending calls reject with 'closed', the connection is closed, no timer is left behind. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const wasOnline = this.connection.close();
    this.methods.close();
    this.twin.close();
    this.telemetry.close(() => closedError());
    this.connection.failWaiters(() => closedError());
    this.session.abandonPending('the hub client was closed');
    this.closing = this.session.disconnect().then(() => {
      if (wasOnline) this.emit('disconnected', { reason: { code: 'closed', message: 'close() was called' } });
    });
    return this.closing;
  }

  // ---- the connection's work -----------------------------------------------------------------------------------

  /** Runs synchronously inside the session's CONNACK handling, so the SUBSCRIBE is the first packet out. */
  private onConnected(current: () => boolean): void {
    const filters = hubSubscriptions(this.deviceId, this.moduleId);
    this.session.subscribe(filters).then(
      (granted) => {
        let twinAnswers = false;
        granted.forEach((code, i) => {
          const filter = filters[i]!;
          if (code === 0x80) this.report(new HubError('subscribe-refused', `the hub refused the subscription to ${filter.topic}`));
          else if (grantsTwinAnswers(filter)) twinAnswers = true;
        });
        // Twin requests go out only now, on the connection that was acknowledged; with the twin response
        // filter refused no answer could arrive, so they wait (and time out) instead of being written.
        if (twinAnswers && current()) this.twin.onSubscribed();
      },
      () => undefined, // the connection ended first; the next one subscribes again
    );
    this.twin.onConnected();
    this.methods.onConnected();
    this.telemetry.onConnected();
  }

  // ---- incoming messages ----------------------------------------------------------------------------------------

  private onMessage(message: IncomingMessage): void | Promise<void> {
    const route = routeTopic(message.topic, this.deviceId);
    switch (route.to) {
      case 'twin-response':
        return this.twin.handleResponse(route.topic, message.payload);
      case 'twin-desired':
        return this.twin.handleDesired(route.topic, message.payload);
      case 'method':
        return this.methods.handle(route.topic, message.payload);
      case 'c2d':
        return this.c2d.deliver(message, route.topic);
      case 'malformed':
        return this.report(new HubError('invalid-response', `${route.what}: ${route.error.message}`, { cause: route.error }));
      case 'none':
        return this.log('warn', `message on an unexpected topic ignored (${message.topic.length} characters)`);
    }
  }

  /** An incoming PUBLISH the session skipped for its size (it was never buffered; the session acknowledged it). */
  private onOversized(skipped: OversizedPublish): void {
    const { kind, methodRid } = incomingKind(skipped.topic, this.deviceId);
    if (kind === 'method') this.methods.refuse(methodRid, skipped.size, skipped.limit);
    else this.refuse(kind, skipped.size, skipped.limit);
  }

  /**
   * A message over this device's limits: reported (kind and size, never content) and not delivered. The method
   * channel then answers 413; a twin answer that never arrives times its request out; C2D is completed unread.
   */
  private refuse(kind: IncomingKind, size: number, limit: number): void {
    this.log('warn', `${kind} message of ${size} bytes refused: over this device's ${limit}-byte limit`);
    this.emit('message-refused', { kind, size, limit });
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  private report(error: HubError): void {
    this.log(error.code === 'connect-failed' ? 'warn' : 'error', error.message);
    this.emit('error', error);
  }

  private log(level: LogLevel, message: string): void {
    this.ports.logger?.log(level, `hub: ${message}`);
  }

  protected override listenerFailed(error: unknown, event: string): void {
    this.log('error', `a '${event}' listener threw: ${errorText(error)}`);
  }
}
