// The Azure IoT Hub device client: one MQTT session to the hub (or an IoT Edge gateway), kept up for the life
// of the client. Around the session it adds what the hub needs:
// - on every connection, ONE SUBSCRIBE for C2D, methods, twin answers and desired patches; the twin GET that
//   catches up on desired changes made while away goes out as soon as its SUBACK arrives (the hub does not
//   promise to deliver an answer on a subscription it has not acknowledged), and so do twin calls that waited;
// - reconnects as the failure policy says (src/failure/failure-policy.ts): backoff, the throttling floor, or,
//   for refused credentials, a stop until updateCredentials() or the slow retry (stoppedRetryMs);
// - SAS renewal as a planned reconnect at ~80 % of the token's life, after letting in-flight work finish, with
//   calls made meanwhile queued and replayed, so a renewal never fails or loses a call;
// - QoS 1 telemetry resolved on PUBACK, bounded, resent after a reconnect (the session keeps it in flight);
// - limits checked before anything is sent.
// Lifecycle decisions go through the table in hub-state.ts; the twin, methods and telemetry each live in their
// own file and only meet here.

import { TypedEmitter } from '../events';
import type { LogLevel, TimerHandle } from '../ports';
import { MqttSession, encodePublish, encodedPublishSize, type EncodedPublish } from '../mqtt/session';
import { MqttSessionError } from '../mqtt/session-errors';
import type { IncomingMessage, OversizedPublish, SessionCloseReason } from '../mqtt/session-types';
import type { Subscription } from '../mqtt/packets';
import { c2dSubscribeFilter, parseC2dTopic } from '../azure/c2d-topic';
import { checkTelemetrySize } from '../azure/limits';
import { METHODS_FILTER, methodResponseTopic, parseMethodRequestTopic } from '../azure/method-topics';
import { TWIN_DESIRED_FILTER, TWIN_RESPONSE_FILTER } from '../azure/twin-topics';
import type { TelemetryTopicOptions } from '../azure/telemetry-topic';
import { TelemetryTopicCache } from './telemetry-topic-cache';
import { buildReportedProperty, buildWritablePropertyAck, type WritablePropertyAck } from '../azure/pnp';
import type { JsonValue } from '../azure/json';
import { createRequestIdGenerator } from '../azure/request-id';
import { utf8Encode } from '../encoding/utf8';
import { backoffDelay, randomFromCrypto, slowRetryDelay, type RandomSource } from '../failure/backoff';
import { buildConnectPlan, type ConnectPlan, type ConnectSettings } from './connect-plan';
import { resolveCredentials, type HubCredentials, type HubIdentity } from './credentials';
import { decideHubFailure, stoppedError } from './error-class';
import { HubError, errorText } from './hub-error';
import { resolveSettings, type HubClientConfig, type HubSettings } from './hub-settings';
import { hubTransition, isOnline, type HubInput, type HubState } from './hub-state';
import type {
  C2dHandler,
  DesiredHandler,
  HubClientEvents,
  HubClientPorts,
  HubDisconnectCode,
  HubDisconnectReason,
  IncomingKind,
  TelemetryOptions,
} from './hub-types';
import { MethodDispatcher, type MethodHandler, type MethodReply } from './method-dispatcher';
import { renewalDelayMs } from './renewal';
import { TelemetryOutbox, type OutgoingTelemetry } from './telemetry-outbox';
import { TwinChannel, type TwinDocument } from './twin-channel';

const TWIN_RESPONSE_PREFIX = '$iothub/twin/res/';
const TWIN_DESIRED_PREFIX = '$iothub/twin/PATCH/properties/desired';
const METHOD_PREFIX = '$iothub/methods/POST/';
/** While the wall clock is unset the client re-checks it at least this often (no network traffic involved). */
const CLOCK_CHECK_MAX_MS = 10_000;

interface Waiter {
  resolve(): void;
  reject(error: HubError): void;
}

interface HeldReply {
  reply: MethodReply;
  at: number;
}

function settingsFor(config: HubClientConfig, settings: HubSettings): ConnectSettings {
  const connect: ConnectSettings = {
    trustedCAs: config.trustedCAs,
    keepAliveSeconds: settings.keepAliveSeconds,
    connectTimeoutMs: settings.connectTimeoutMs,
    sasTtlSeconds: settings.sasTtlSeconds,
  };
  if (config.endpoint !== undefined) connect.endpoint = config.endpoint;
  if (config.modelId !== undefined) connect.modelId = config.modelId;
  if (config.userAgent !== undefined) connect.userAgent = config.userAgent;
  return connect;
}

function checkEndpoint(endpoint: HubClientConfig['endpoint']): HubError | undefined {
  if (endpoint === undefined) return undefined;
  const port = endpoint.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    return new HubError('invalid-config', 'endpoint.port must be an integer from 1 to 65535', { field: 'endpoint.port' });
  }
  for (const name of ['host', 'serverName'] as const) {
    const value = endpoint[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      return new HubError('invalid-config', `endpoint.${name} must be a non-empty string`, { field: `endpoint.${name}` });
    }
  }
  return undefined;
}

export class HubClient {
  private readonly emitter: TypedEmitter<HubClientEvents>;
  private readonly session: MqttSession;
  private readonly settings: HubSettings;
  private readonly connectSettings: ConnectSettings;
  private readonly random: RandomSource;
  private readonly outbox: TelemetryOutbox;
  private readonly topicCache = new TelemetryTopicCache();
  private readonly twin: TwinChannel;
  private readonly methods: MethodDispatcher;
  private readonly nextRid = createRequestIdGenerator();
  private identity: HubIdentity;
  private current: HubState = 'idle';

  /** Failed attempts in a row; the backoff exponent. */
  private failures = 0;
  /** Increments per attempt so the outcome of an abandoned attempt is ignored. */
  private attemptSeq = 0;
  private attemptStartedAt = 0;
  /** The identity the current attempt signed with: an auth refusal of older credentials is not final. */
  private attemptIdentity: HubIdentity | undefined;
  private plannedClose: HubDisconnectCode | undefined;
  private clockErrorReported = false;
  private c2dHandler: C2dHandler | undefined;
  private c2dRunning = 0;
  private heldReplies: HeldReply[] = [];
  private waiters: Waiter[] = [];
  private closing: Promise<void> | undefined;
  /** The plan of the current (or last) connection: its token's expiry drives the renewal. */
  private currentPlan: ConnectPlan | undefined;

  private retryTimer: TimerHandle | undefined;
  private renewalTimer: TimerHandle | undefined;
  private drainTimer: TimerHandle | undefined;
  private ackTimer: TimerHandle | undefined;

  /** Throws HubError 'invalid-config' when the configuration or credentials are unusable. */
  constructor(
    private readonly ports: HubClientPorts,
    config: HubClientConfig,
  ) {
    if (typeof config !== 'object' || config === null) throw new HubError('invalid-config', 'config must be an object');
    const settings = resolveSettings(config);
    if (!settings.ok) throw settings.error;
    const endpointProblem = checkEndpoint(config.endpoint);
    if (endpointProblem !== undefined) throw endpointProblem;
    const identity = resolveCredentials(config.credentials);
    if (!identity.ok) throw identity.error;
    this.settings = settings.value;
    this.identity = identity.value;
    this.connectSettings = settingsFor(config, settings.value);
    this.random = config.random ?? randomFromCrypto(ports.crypto);
    this.emitter = new TypedEmitter<HubClientEvents>((error, event) => this.log('error', `a '${event}' listener threw: ${errorText(error)}`));
    this.session = new MqttSession(
      ports.logger === undefined ? { transport: ports.transport, timers: ports.timers } : { transport: ports.transport, timers: ports.timers, logger: ports.logger },
      { maxInflight: this.settings.maxInflightTelemetry, maxPacketSize: this.settings.maxIncomingPacketBytes },
    );
    this.outbox = new TelemetryOutbox(this.settings.maxPendingTelemetry, this.settings.maxInflightTelemetry, this.settings.maxPendingTelemetryBytes);
    this.twin = new TwinChannel({
      timers: ports.timers,
      send: (topic, payload) => this.session.publish(topic, payload, { qos: 0 }),
      canSend: () => this.current === 'connected',
      nextRid: this.nextRid,
      random: this.random,
      backoff: this.settings.backoff,
      operationTimeoutMs: this.settings.operationTimeoutMs,
      maxPending: this.settings.maxPendingTwinRequests,
      report: (error) => this.report(error),
      log: (level, message) => this.log(level, message),
      onSettled: () => this.checkDrain(),
    });
    this.methods = new MethodDispatcher(ports.timers, {
      timeoutMs: this.settings.methodTimeoutMs,
      send: (reply) => {
        this.sendMethodReply(reply);
        this.checkDrain();
      },
      report: (error) => this.report(error),
    });
    this.session.setMessageHandler((message) => this.onMessage(message));
    this.session.on('connected', ({ sessionPresent }) => this.onSessionConnected(sessionPresent));
    this.session.on('close', ({ reason }) => this.onSessionClosed(reason));
    this.session.on('error', (error) => this.log('warn', `mqtt: ${error.message}`));
    this.session.on('oversized', (skipped) => this.onOversized(skipped));
  }

  // ---- public API ---------------------------------------------------------------------------------------------

  get state(): HubState {
    return this.current;
  }

  get deviceId(): string {
    return this.identity.deviceId;
  }

  get moduleId(): string | undefined {
    return this.identity.moduleId;
  }

  /** Telemetry accepted and not yet acknowledged. */
  get pendingTelemetry(): number {
    return this.outbox.pendingCount;
  }

  on<K extends keyof HubClientEvents>(event: K, listener: (payload: HubClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  once<K extends keyof HubClientEvents>(event: K, listener: (payload: HubClientEvents[K]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  off<K extends keyof HubClientEvents>(event: K, listener: (payload: HubClientEvents[K]) => void): void {
    this.emitter.off(event, listener);
  }

  /**
   * Starts the client and resolves once connected. Retryable failures are retried with backoff (reported as
   * 'reconnecting' and 'error' events) while this waits; refused credentials, a configuration error or a clock
   * that is not set reject it (without a clock the client keeps checking it in the background, sending nothing).
   */
  connect(): Promise<void> {
    if (this.current === 'closed') return Promise.reject(new HubError('closed', 'the client is closed'));
    if (this.current === 'connected') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.current === 'idle' || this.current === 'stopped') {
      this.failures = 0;
      this.startAttempt('start');
    }
    return done;
  }

  /**
   * New credentials (a rotated key, a renewed certificate). After an authentication failure the client tries
   * again at once; otherwise they are used from the next connection (the next renewal at the latest).
   * Throws HubError 'invalid-config' when they are unusable; the old ones then stay in use.
   */
  updateCredentials(credentials: HubCredentials): void {
    const identity = resolveCredentials(credentials);
    if (!identity.ok) throw identity.error;
    this.identity = identity.value;
    this.failures = 0;
    if (this.current === 'stopped' || this.current === 'waiting') {
      this.clearTimer('retry');
      this.startAttempt('start');
    }
  }

  /**
   * Sends device-to-cloud telemetry. QoS 1 (the default) resolves on the hub's PUBACK; the message is resent after
   * a reconnect until acknowledged (at least once). Calls made while offline wait (bounded by maxPendingTelemetry
   * and maxPendingTelemetryBytes; beyond either: HubError 'queue-full', and 'too-large' for one message bigger
   * than the whole byte budget). Sizes, budgets and property names are checked before the message is encoded;
   * only the encoded PUBLISH is kept, not `body`.
   */
  sendTelemetry(body: Uint8Array | string, options: TelemetryOptions = {}): Promise<void> {
    if (this.current === 'closed') return Promise.reject(new HubError('closed', 'the client is closed'));
    let payload: Uint8Array;
    if (typeof body === 'string') payload = utf8Encode(body);
    else if (body instanceof Uint8Array) payload = body;
    else return Promise.reject(new HubError('invalid-argument', 'telemetry body must be a string or a Uint8Array', { field: 'body' }));
    const qos = options.qos ?? 1;
    if (qos !== 0 && qos !== 1) return Promise.reject(new HubError('invalid-argument', 'qos must be 0 or 1', { field: 'qos' }));

    const topicInput: TelemetryTopicOptions = { deviceId: this.identity.deviceId, ...(options.systemProperties ?? {}) };
    if (this.identity.moduleId !== undefined) topicInput.moduleId = this.identity.moduleId;
    if (options.properties !== undefined) topicInput.properties = options.properties;
    const topic = this.topicCache.topic(topicInput);
    if (!topic.ok) {
      return Promise.reject(new HubError('invalid-argument', `telemetry: ${topic.error.message}`, { field: topic.error.field, cause: topic.error }));
    }
    const size = checkTelemetrySize(payload.length, topic.value);
    if (!size.ok) return Promise.reject(new HubError('too-large', size.error.message, { field: size.error.field, cause: size.error }));
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
      else this.pumpTelemetry();
    });
  }

  /** The one C2D handler (replacing any earlier one). The message is completed (PUBACK) when it returns. */
  onC2D(handler: C2dHandler): () => void {
    this.c2dHandler = handler;
    return () => {
      if (this.c2dHandler === handler) this.c2dHandler = undefined;
    };
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
    if (typeof name !== 'string' || name.length === 0) throw new HubError('invalid-argument', 'method name must be a non-empty string', { field: 'name' });
    if (typeof handler !== 'function') throw new HubError('invalid-argument', 'method handler must be a function', { field: 'handler' });
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
    const wasOnline = isOnline(this.current);
    this.move('close');
    for (const name of ['retry', 'renewal', 'drain', 'ack'] as const) this.clearTimer(name);
    this.methods.cancelAll();
    this.heldReplies = [];
    const closed = (): HubError => new HubError('closed', 'the client was closed');
    this.twin.close();
    this.outbox.rejectAll(closed);
    for (const waiter of this.waiters.splice(0)) waiter.reject(closed());
    this.session.abandonPending('the hub client was closed');
    this.closing = this.session.disconnect().then(() => {
      if (wasOnline) this.emitter.emit('disconnected', { reason: { code: 'closed', message: 'close() was called' } });
    });
    return this.closing;
  }

  // ---- connecting ---------------------------------------------------------------------------------------------

  private startAttempt(input: HubInput): void {
    if (!this.move(input)) return;
    const seq = ++this.attemptSeq;
    this.attemptStartedAt = this.ports.timers.now();
    this.attemptIdentity = this.identity;
    const plan = buildConnectPlan(this.identity, this.connectSettings, this.ports.clock.unixMs(), this.ports.crypto.hmacSha256);
    if (!plan.ok) {
      this.onAttemptFailed(seq, plan.error);
      return;
    }
    this.currentPlan = plan.value;
    this.log('info', `connecting to ${plan.value.options.tls.host}:${plan.value.options.tls.port} as ${plan.value.options.clientId}`);
    this.session.connect(plan.value.options).then(
      () => undefined, // the session's 'connected' event did the work, synchronously with the CONNACK
      (error: unknown) => this.onAttemptFailed(seq, error),
    );
  }

  /** Runs synchronously inside the session's CONNACK handling, so the SUBSCRIBE is the first packet out. */
  private onSessionConnected(sessionPresent: boolean): void {
    if (this.current !== 'connecting') return;
    this.move('connack');
    this.failures = 0;
    this.clockErrorReported = false;
    this.plannedClose = undefined;
    this.subscribe();
    this.twin.onConnected();
    this.flushHeldReplies();
    this.outbox.restartClocks(this.ports.timers.now());
    this.pumpTelemetry();
    this.armAckTimer();
    this.scheduleRenewal();
    this.log('info', `connected (session present: ${sessionPresent})`);
    this.emitter.emit('connected', { sessionPresent });
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private subscribe(): void {
    const filters: Subscription[] = [];
    if (this.identity.moduleId === undefined) {
      const c2d = c2dSubscribeFilter(this.identity.deviceId);
      if (c2d.ok) filters.push({ topic: c2d.value, qos: 1 });
    }
    filters.push({ topic: METHODS_FILTER, qos: 0 }, { topic: TWIN_RESPONSE_FILTER, qos: 0 }, { topic: TWIN_DESIRED_FILTER, qos: 0 });
    const seq = this.attemptSeq;
    this.session.subscribe(filters).then(
      (granted) => {
        let twinAnswers = false;
        granted.forEach((code, i) => {
          if (code === 0x80) {
            this.report(new HubError('subscribe-refused', `the hub refused the subscription to ${filters[i]!.topic}`));
          } else if (filters[i]!.topic === TWIN_RESPONSE_FILTER) {
            twinAnswers = true;
          }
        });
        // Twin requests go out only now, on the connection that was acknowledged; with the twin response
        // filter refused no answer could arrive, so they wait (and time out) instead of being written.
        if (twinAnswers && seq === this.attemptSeq && isOnline(this.current)) this.twin.onSubscribed();
      },
      () => undefined, // the connection ended first; the next one subscribes again
    );
  }

  /** Carries out the failure policy's decision (src/failure/failure-policy.ts) for a failed attempt. */
  private onAttemptFailed(seq: number, error: unknown): void {
    if (seq !== this.attemptSeq || this.current !== 'connecting') return;
    const spent = this.ports.timers.now() - this.attemptStartedAt;
    const decision = decideHubFailure(error);
    if (decision === 'retry-backoff' || decision === 'retry-throttled') {
      this.report(new HubError('connect-failed', `connecting failed: ${errorText(error)}`, { retryable: true, cause: error }));
      this.move('retry');
      this.scheduleRetry(spent, decision === 'retry-throttled');
    } else if (decision === 'wait-for-clock') {
      const clockError = error instanceof HubError ? error : new HubError('clock-not-set', errorText(error), { cause: error });
      if (!this.clockErrorReported) {
        this.clockErrorReported = true;
        this.report(clockError);
      }
      for (const waiter of this.waiters.splice(0)) waiter.reject(clockError);
      // Nothing was sent: check the clock again later without touching the network, often enough that the
      // device connects soon after SNTP answers.
      this.move('retry');
      this.scheduleRetry(spent, false, CLOCK_CHECK_MAX_MS);
    } else if (this.attemptIdentity !== this.identity) {
      // updateCredentials() came while this attempt was under way: try the new ones before stopping.
      this.move('retry');
      this.scheduleRetry(spent, false);
    } else {
      // Stop the fast loop ('reprovision' is the boot flow's to carry out; here it stops the same way).
      const delayMs = slowRetryDelay(this.settings.stoppedRetryMs, this.random());
      const stop = stoppedError(error, delayMs);
      this.move('stop');
      this.report(stop);
      for (const waiter of this.waiters.splice(0)) waiter.reject(stop);
      this.scheduleSlowRetry(delayMs);
    }
  }

  /** In 'stopped': refusals can clear by themselves, so one more attempt comes after the slow delay. */
  private scheduleSlowRetry(delayMs: number): void {
    // An 'error' listener may have closed the client while the stop was being reported: then nothing is left.
    if (this.current !== 'stopped') return;
    this.failures = 0;
    this.emitter.emit('reconnecting', { attempt: 1, delayMs });
    this.clearTimer('retry');
    this.retryTimer = this.ports.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.current === 'stopped') this.startAttempt('start');
    }, delayMs);
  }

  /** In 'waiting': the next attempt after the backoff delay. */
  private scheduleRetry(spentMs: number, throttled: boolean, capMs = Number.POSITIVE_INFINITY): void {
    if (this.current !== 'waiting') return;
    const delayMs = Math.min(
      capMs,
      backoffDelay({ attempt: this.failures, attemptDurationMs: spentMs, throttled, random: this.random() }, this.settings.backoff),
    );
    this.failures++;
    this.log('info', `reconnecting in ${delayMs} ms (attempt ${this.failures})`);
    this.emitter.emit('reconnecting', { attempt: this.failures, delayMs });
    this.clearTimer('retry');
    this.retryTimer = this.ports.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.current === 'waiting') this.startAttempt('retry-due');
    }, delayMs);
  }

  // ---- the connection ends --------------------------------------------------------------------------------------

  private onSessionClosed(reason: SessionCloseReason): void {
    if (!isOnline(this.current)) return; // failed attempts are handled by connect()'s rejection; close() by itself
    const planned = this.plannedClose;
    this.plannedClose = undefined;
    for (const name of ['renewal', 'drain', 'ack'] as const) this.clearTimer(name);
    this.twin.onDisconnected();
    // A plan only counts once its DISCONNECT went out; a drop while draining is an ordinary loss.
    const code: HubDisconnectCode = this.current === 'disconnecting' && planned !== undefined ? planned : 'connection-lost';
    const message = code === 'renewal' ? 'planned reconnect to renew the SAS token' : reason.message;
    this.log(code === 'connection-lost' ? 'warn' : 'info', `disconnected (${code}): ${message}`);
    const disconnect: HubDisconnectReason = { code, message, session: reason };
    if (code === 'renewal') {
      this.emitter.emit('disconnected', { reason: disconnect });
      this.startAttempt('reconnect');
      return;
    }
    this.move('lost');
    this.emitter.emit('disconnected', { reason: disconnect });
    this.scheduleRetry(0, false);
  }

  // ---- SAS renewal ----------------------------------------------------------------------------------------------

  private scheduleRenewal(): void {
    this.clearTimer('renewal');
    const token = this.currentPlan?.token;
    if (token === undefined) return;
    const delay = renewalDelayMs(token.signedAtUnixMs, token.expiryUnixSeconds, this.settings.renewAtFraction);
    this.renewalTimer = this.ports.timers.setTimeout(() => {
      this.renewalTimer = undefined;
      this.beginRenewal();
    }, delay);
  }

  private beginRenewal(): void {
    if (!this.move('renew')) return;
    this.log('info', 'renewing the SAS token: draining in-flight work before a planned reconnect');
    this.plannedClose = 'renewal';
    this.drainTimer = this.ports.timers.setTimeout(() => {
      this.drainTimer = undefined;
      this.log('warn', `drain did not finish within ${this.settings.renewalDrainTimeoutMs} ms; reconnecting anyway`);
      this.finishDrain();
    }, this.settings.renewalDrainTimeoutMs);
    this.checkDrain();
  }

  /** During a renewal drain: disconnect once nothing written is still waiting for its answer. */
  private checkDrain(): void {
    if (this.current !== 'draining') return;
    if (this.twin.inFlight > 0 || this.methods.runningCount > 0 || this.c2dRunning > 0 || this.outbox.handedCount > 0) return;
    this.finishDrain();
  }

  private finishDrain(): void {
    this.clearTimer('drain');
    if (!this.move('drained')) return;
    void this.session.disconnect();
  }

  // ---- acknowledgement watchdog ---------------------------------------------------------------------------------

  private armAckTimer(): void {
    if (this.settings.ackTimeoutMs === 0 || this.ackTimer !== undefined || this.current !== 'connected') return;
    const oldest = this.outbox.oldestUnacknowledged();
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest + this.settings.ackTimeoutMs - this.ports.timers.now());
    this.ackTimer = this.ports.timers.setTimeout(() => {
      this.ackTimer = undefined;
      this.onAckTimer();
    }, delay);
  }

  private onAckTimer(): void {
    if (this.current !== 'connected') return;
    const oldest = this.outbox.oldestUnacknowledged();
    if (oldest !== undefined && this.ports.timers.now() - oldest >= this.settings.ackTimeoutMs) {
      this.log('warn', `no PUBACK within ${this.settings.ackTimeoutMs} ms: reconnecting to resend`);
      this.plannedClose = 'ack-timeout';
      this.move('disconnect');
      void this.session.disconnect();
      return;
    }
    this.armAckTimer();
  }

  // ---- telemetry ------------------------------------------------------------------------------------------------

  private pumpTelemetry(): void {
    if (this.current !== 'connected') return;
    for (const item of this.outbox.handOut(this.ports.timers.now())) this.publishTelemetry(item);
    this.armAckTimer();
  }

  private publishTelemetry(item: OutgoingTelemetry): void {
    this.session.publishEncoded(item.packet).then(
      () => {
        this.outbox.done(item);
        item.resolve();
        this.afterTelemetry();
      },
      (error: unknown) => {
        if (this.current === 'closed') {
          this.outbox.done(item);
          item.reject(new HubError('closed', 'the client was closed before the message was acknowledged'));
          return;
        }
        if (error instanceof MqttSessionError && (error.code === 'connection-closed' || error.code === 'not-connected')) {
          this.outbox.giveBack(item); // never written, or written on a connection whose session will not resend it
        } else {
          this.outbox.done(item);
          item.reject(new HubError('invalid-argument', `telemetry could not be sent: ${errorText(error)}`, { cause: error }));
        }
        this.afterTelemetry();
      },
    );
  }

  private afterTelemetry(): void {
    this.checkDrain();
    this.pumpTelemetry();
  }

  // ---- incoming messages ----------------------------------------------------------------------------------------

  private onMessage(message: IncomingMessage): void | Promise<void> {
    const topic = message.topic;
    if (topic.startsWith(TWIN_RESPONSE_PREFIX)) return this.twin.handleResponse(topic, message.payload);
    if (topic.startsWith(TWIN_DESIRED_PREFIX)) return this.twin.handleDesired(topic, message.payload);
    if (topic.startsWith(METHOD_PREFIX)) {
      const request = parseMethodRequestTopic(topic);
      if (!request.ok) {
        this.report(new HubError('invalid-response', `method request: ${request.error.message}`, { cause: request.error }));
        return;
      }
      if (message.payload.length > this.settings.maxMethodPayloadBytes) {
        this.refuseIncoming('method', message.payload.length, this.settings.maxMethodPayloadBytes, request.value.rid);
        return;
      }
      // Not awaited: the handler's time limit is the dispatcher's business, not the PUBACK's.
      this.methods.dispatch(request.value.methodName, request.value.rid, message.payload);
      return;
    }
    const c2d = parseC2dTopic(topic, this.identity.deviceId);
    if (c2d.ok && message.payload.length > this.settings.maxC2dPayloadBytes) {
      this.refuseIncoming('c2d', message.payload.length, this.settings.maxC2dPayloadBytes);
      return; // completed unread: the hub would otherwise redeliver it, and hold every later C2D behind it
    }
    if (c2d.ok) return this.deliverC2d(message, c2d.value);
    this.log('warn', `message on an unexpected topic ignored (${topic.length} characters)`);
  }

  /** An incoming PUBLISH the session skipped for its size (it was never buffered; the session acknowledged it). */
  private onOversized(skipped: OversizedPublish): void {
    const topic = skipped.topic;
    let kind: IncomingKind = 'unknown';
    let rid: string | undefined;
    if (topic === undefined) kind = 'unknown';
    else if (topic.startsWith(TWIN_RESPONSE_PREFIX) || topic.startsWith(TWIN_DESIRED_PREFIX)) kind = 'twin';
    else if (topic.startsWith(METHOD_PREFIX)) {
      kind = 'method';
      const request = parseMethodRequestTopic(topic);
      if (request.ok) rid = request.value.rid;
    } else if (parseC2dTopic(topic, this.identity.deviceId).ok) kind = 'c2d';
    this.refuseIncoming(kind, skipped.size, skipped.limit, rid);
  }

  /**
   * A message over this device's limits: reported (kind and size, never content) and not delivered. A method
   * caller gets 413 instead of waiting for the hub's timeout; a twin answer that never arrives times its request
   * out; C2D is completed, since redelivering it could never succeed.
   */
  private refuseIncoming(kind: IncomingKind, size: number, limit: number, methodRid?: string): void {
    this.log('warn', `${kind} message of ${size} bytes refused: over this device's ${limit}-byte limit`);
    this.emitter.emit('message-refused', { kind, size, limit });
    if (methodRid !== undefined) {
      const body = utf8Encode(JSON.stringify({ error: `request of ${size} bytes is over the device's ${limit}-byte limit` }));
      this.sendMethodReply({ rid: methodRid, status: 413, body });
    }
  }

  private deliverC2d(message: IncomingMessage, parsed: Extract<ReturnType<typeof parseC2dTopic>, { ok: true }>['value']): void | Promise<void> {
    const handler = this.c2dHandler;
    if (handler === undefined) {
      this.log('warn', 'C2D message arrived with no onC2D handler; completing it unread');
      return;
    }
    const c2d: Parameters<C2dHandler>[0] = {
      payload: message.payload,
      properties: parsed.applicationProperties,
      allProperties: parsed.properties,
      redelivered: message.dup,
    };
    if (parsed.messageId !== undefined) c2d.messageId = parsed.messageId;
    if (parsed.correlationId !== undefined) c2d.correlationId = parsed.correlationId;
    if (parsed.contentType !== undefined) c2d.contentType = parsed.contentType;
    if (parsed.contentEncoding !== undefined) c2d.contentEncoding = parsed.contentEncoding;
    const failed = (error: unknown): void => this.report(new HubError('handler-failed', `C2D handler failed: ${errorText(error)}`, { cause: error }));
    let result: void | Promise<void>;
    try {
      result = handler(c2d);
    } catch (error) {
      failed(error);
      return;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') return;
    this.c2dRunning++;
    return Promise.resolve(result).then(
      () => {
        this.c2dRunning--;
        this.checkDrain();
      },
      (error: unknown) => {
        this.c2dRunning--;
        failed(error);
        this.checkDrain();
      },
    );
  }

  // ---- method replies -------------------------------------------------------------------------------------------

  private sendMethodReply(reply: MethodReply): void {
    if (this.current === 'closed') return;
    if (!isOnline(this.current) || this.session.state !== 'connected') {
      this.heldReplies.push({ reply, at: this.ports.timers.now() });
      return;
    }
    const topic = methodResponseTopic(reply.status, reply.rid);
    if (!topic.ok) {
      this.report(new HubError('invalid-argument', `method reply: ${topic.error.message}`, { cause: topic.error }));
      return;
    }
    this.session.publish(topic.value, reply.body, { qos: 0 }).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof MqttSessionError && (error.code === 'connection-closed' || error.code === 'not-connected')) {
          this.heldReplies.push({ reply, at: this.ports.timers.now() });
        }
      },
    );
  }

  /** Replies produced while offline go out on the next connection, unless the caller has stopped waiting. */
  private flushHeldReplies(): void {
    const now = this.ports.timers.now();
    const held = this.heldReplies.splice(0);
    for (const { reply, at } of held) {
      if (now - at < this.settings.methodTimeoutMs) this.sendMethodReply(reply);
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  /** Applies a transition; false (and nothing changes) when the table does not allow it in the current state. */
  private move(input: HubInput): boolean {
    const previous = this.current;
    const next = hubTransition(previous, input);
    if (next === undefined) return false;
    this.current = next;
    if (next !== previous) {
      this.log('debug', `state ${previous} -> ${next}`);
      this.emitter.emit('state', { state: next, previous });
    }
    return true;
  }

  private clearTimer(name: 'retry' | 'renewal' | 'drain' | 'ack'): void {
    const field = `${name}Timer` as const;
    const handle = this[field];
    if (handle !== undefined) this.ports.timers.clearTimeout(handle);
    this[field] = undefined;
  }

  private report(error: HubError): void {
    this.log(error.code === 'connect-failed' ? 'warn' : 'error', error.message);
    this.emitter.emit('error', error);
  }

  private log(level: LogLevel, message: string): void {
    this.ports.logger?.log(level, `hub: ${message}`);
  }
}
