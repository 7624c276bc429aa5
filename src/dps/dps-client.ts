// The Device Provisioning Service client over MQTT: one registration per register() call, on its own clean
// session. It connects, subscribes to `$dps/registrations/res/#`, registers, polls while DPS says `assigning`
// (waiting what `retry-after` says, or a fallback), retries throttling and server errors the same way, and gives
// up on final answers and on its bounds. What the caller does next is the failure policy's decision
// (src/failure/failure-policy.ts, read through dps-failure.ts); `retryable` on the errors agrees with it.
// Whatever the outcome, the DPS connection is closed (DISCONNECT sent,
// transport reported closed) before the promise settles, so a hub connection opened next never overlaps it.
// Decisions live in dps-steps.ts (pure); this file only carries them out.

import { buildDpsRegisterBody } from '../azure/dps-payloads';
import { DPS_RESPONSE_FILTER, dpsPollTopic, dpsRegisterTopic, parseDpsResponseTopic } from '../azure/dps-topics';
import { dpsMqttIdentity } from '../azure/mqtt-identity';
import { createRequestIdGenerator } from '../azure/request-id';
import { utf8Encode } from '../encoding/utf8';
import { errorText } from '../errors';
import { Emitter } from '../events';
import { MqttSession } from '../mqtt/session';
import { MqttConnectError } from '../mqtt/session-errors';
import { decideFailure, isRetry } from '../failure/failure-policy';
import { mqttErrorCause, sessionCloseCause } from '../failure/mqtt-cause';
import type { IncomingMessage, MqttConnectOptions, SessionCloseReason } from '../mqtt/session-types';
import type { CryptoPort, LogLevel, Logger, TimerHandle, Timers, TransportFactory, WallClock } from '../ports';
import { dpsPassword, signingIdentity } from './dps-attestation';
import { parseDpsEndpoint } from './dps-endpoint';
import { clockNotSetError, DpsError } from './dps-errors';
import { resolveLimits, type DpsLimits, type DpsRegisterOptions, type DpsRegistrationResult } from './dps-options';
import { err, ok, type Result } from '../result';
import type { StateMachine } from '../state-machine';
import { dpsMachine, isRunning, type DpsState } from './dps-state';
import { decideStep, type DpsStep } from './dps-steps';
import { TransportCloseWatch } from './transport-close-watch';

export interface DpsClientDeps {
  transport: TransportFactory;
  timers: Timers;
  clock: WallClock;
  crypto: CryptoPort;
  logger: Logger;
}

export interface DpsClientEvents {
  state: { state: DpsState; previous: DpsState };
}

/** What a registration needs once the options have been checked and the credentials built. */
interface Plan {
  connect: MqttConnectOptions;
  registrationId: string;
  registerBody: Uint8Array;
  limits: DpsLimits;
  target: string;
}

type Outcome = Result<DpsRegistrationResult, DpsError>;

/** One registration: its connection, its progress and its timers. */
interface Run {
  readonly plan: Plan;
  readonly session: MqttSession;
  readonly watch: TransportCloseWatch;
  readonly startedAt: number;
  readonly resolve: (result: DpsRegistrationResult) => void;
  readonly reject: (error: DpsError) => void;
  operationId?: string;
  requestsSent: number;
  pendingRid?: string;
  finished: boolean;
  deadlineTimer?: TimerHandle;
  responseTimer?: TimerHandle;
  waitTimer?: TimerHandle;
}

const EMPTY = new Uint8Array(0);

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export class DpsClient extends Emitter<DpsClientEvents> {
  private readonly machine: StateMachine<DpsState, DpsState>;
  private run: Run | undefined;
  // One generator for the client's lifetime: an answer meant for an earlier registration can never match.
  private readonly nextRid = createRequestIdGenerator();

  constructor(private readonly deps: DpsClientDeps) {
    super();
    this.machine = dpsMachine((message) => this.log('error', message));
  }

  get state(): DpsState {
    return this.machine.state;
  }

  protected override listenerFailed(error: unknown, event: string): void {
    this.log('warn', `a '${event}' listener threw: ${errorText(error)}`);
  }

  /**
   * Provisions the device. Resolves with the assignment, or rejects with a DpsError; either way only after the
   * DPS connection is closed. Configuration, credential and clock problems reject before any connection.
   */
  register(options: DpsRegisterOptions): Promise<DpsRegistrationResult> {
    if (isRunning(this.machine.state)) {
      return Promise.reject(new DpsError('busy', `register() called while a registration is ${this.machine.state}`, { retryable: false }));
    }
    const plan = this.prepare(options);
    if (!plan.ok) {
      this.log('error', `cannot register: ${plan.error.message}`);
      return Promise.reject(plan.error);
    }
    return new Promise<DpsRegistrationResult>((resolve, reject) => this.start(plan.value, resolve, reject));
  }

  /** Abandons the running registration: it rejects with 'cancelled' once the connection is closed. */
  cancel(): void {
    const run = this.run;
    if (run !== undefined && !run.finished) {
      this.finish(run, err(new DpsError('cancelled', 'registration cancelled', { retryable: true })));
    }
  }

  // ---- Preparation (no I/O) ----------------------------------------------------------------------------------

  private prepare(options: DpsRegisterOptions): Result<Plan, DpsError> {
    const resolved = resolveLimits(options.limits);
    if (!resolved.ok) return err(new DpsError('invalid-config', resolved.error, { retryable: false }));
    const limits = resolved.value;
    const endpoint = parseDpsEndpoint(options.endpoint);
    if (!endpoint.ok) return endpoint;
    if (!Array.isArray(options.trustedCAs) || options.trustedCAs.length === 0) {
      return err(new DpsError('invalid-config', 'trustedCAs: at least one root certificate is needed to verify DPS', { retryable: false }));
    }
    const signing = signingIdentity(options.identity, this.deps.crypto.hmacSha256);
    if (!signing.ok) return signing;
    const device = signing.value;
    const identityInput: { idScope: string; registrationId: string; clientVersion?: string } = {
      idScope: device.idScope,
      registrationId: device.registrationId,
    };
    if (options.clientVersion !== undefined) identityInput.clientVersion = options.clientVersion;
    const identity = dpsMqttIdentity(identityInput);
    if (!identity.ok) return err(new DpsError('invalid-config', identity.error.message, { retryable: false }));
    const body = buildDpsRegisterBody(device.registrationId, options.payload, options.modelId);
    if (!body.ok) return err(new DpsError('invalid-config', body.error.message, { retryable: false }));
    const nowUnixMs = this.deps.clock.unixMs();
    if (nowUnixMs === undefined) {
      // Checked for X.509 too: without real time the TLS stack cannot judge certificate validity either.
      return err(clockNotSetError());
    }
    const password = dpsPassword(device, nowUnixMs, limits.sasTtlSeconds, this.deps.crypto.hmacSha256);
    if (!password.ok) return password;

    const connect: MqttConnectOptions = {
      tls: { host: endpoint.value.host, port: endpoint.value.port, trustedCAs: options.trustedCAs, connectTimeoutMs: limits.connectTimeoutMs },
      clientId: identity.value.clientId,
      cleanSession: true,
      keepAlive: limits.keepAliveSeconds,
      username: identity.value.username,
      connectTimeoutMs: limits.connectTimeoutMs,
    };
    if (options.serverName !== undefined) connect.tls.serverName = options.serverName;
    if (password.value !== undefined) connect.password = password.value;
    if (device.credential.kind === 'x509') {
      connect.tls.clientCertificates = device.credential.chain;
      if (device.credential.privateKey !== undefined) connect.tls.clientKey = device.credential.privateKey;
    if (device.credential.secTag !== undefined) connect.tls.secTag = device.credential.secTag;
    }
    return ok({
      connect,
      registrationId: device.registrationId,
      registerBody: utf8Encode(body.value),
      limits,
      target: `${endpoint.value.host}:${endpoint.value.port}`,
    });
  }

  // ---- The registration --------------------------------------------------------------------------------------

  private start(plan: Plan, resolve: (result: DpsRegistrationResult) => void, reject: (error: DpsError) => void): void {
    const { timers, logger } = this.deps;
    const watch = new TransportCloseWatch(this.deps.transport);
    const session = new MqttSession({ transport: watch, timers, logger }, { maxPacketSize: plan.limits.maxPacketBytes });
    const run: Run = { plan, session, watch, startedAt: timers.now(), resolve, reject, requestsSent: 0, finished: false };
    this.run = run;
    session.setMessageHandler((message) => this.onMessage(run, message));
    session.on('oversized', ({ size, limit }) => {
      this.finish(run, err(new DpsError('bad-response', `DPS answer of ${size} bytes is over the ${limit}-byte limit`, { retryable: true })));
    });
    session.on('close', ({ reason }) => this.onSessionClose(run, reason));
    run.deadlineTimer = timers.setTimeout(() => {
      run.deadlineTimer = undefined;
      const error = new DpsError('timeout', `no final answer within ${plan.limits.totalTimeoutMs} ms`, { retryable: true });
      this.finish(run, err(error));
    }, plan.limits.totalTimeoutMs);

    const how = plan.connect.password === undefined ? 'X.509 certificate' : 'SAS token';
    this.log('info', `connecting to ${plan.target} as registration ${plan.registrationId} (${how})`);
    this.move('connecting');
    session.connect(plan.connect).then(
      () => this.onConnected(run),
      (error: unknown) => this.onConnectFailed(run, error),
    );
  }

  private onConnected(run: Run): void {
    if (run.finished) return;
    this.log('info', `connected; subscribing to ${DPS_RESPONSE_FILTER}`);
    this.move('subscribing');
    run.session.subscribe([{ topic: DPS_RESPONSE_FILTER, qos: 1 }]).then(
      (granted) => {
        if (run.finished) return;
        if (granted[0] === 0x80) {
          this.finish(run, err(new DpsError('subscribe-refused', `DPS refused the subscription to ${DPS_RESPONSE_FILTER}`, { retryable: isRetry(decideFailure('dps', 'dps-subscribe-refused')) })));
          return;
        }
        this.send(run, 'register');
      },
      // A closed connection is reported by onSessionClose; anything else is a local problem worth naming.
      (error: unknown) => this.failIfRunning(run, 'connection-lost', `subscribing failed: ${errorText(error)}`),
    );
  }

  private onConnectFailed(run: Run, error: unknown): void {
    if (run.finished) return;
    this.finish(run, err(connectError(error)));
  }

  private send(run: Run, kind: 'register' | 'poll'): void {
    if (run.finished) return;
    const rid = this.nextRid();
    const operationId = run.operationId;
    const topic = kind === 'poll' && operationId !== undefined ? dpsPollTopic(rid, operationId) : dpsRegisterTopic(rid);
    const payload = kind === 'poll' ? EMPTY : run.plan.registerBody;
    run.requestsSent++;
    run.pendingRid = rid;
    this.move(kind === 'poll' ? 'polling' : 'registering');
    this.log('info', kind === 'poll' ? `polling operation ${operationId} (request ${run.requestsSent}, $rid=${rid})` : `registering (request ${run.requestsSent}, $rid=${rid})`);
    const timeoutMs = run.plan.limits.responseTimeoutMs;
    run.responseTimer = this.deps.timers.setTimeout(() => {
      run.responseTimer = undefined;
      this.failIfRunning(run, 'timeout', `no answer to the ${kind} request within ${timeoutMs} ms`, true);
    }, timeoutMs);
    run.session.publish(topic, payload, { qos: 1 }).catch((error: unknown) => {
      this.failIfRunning(run, 'connection-lost', `the ${kind} request was not delivered: ${errorText(error)}`);
    });
  }

  private onMessage(run: Run, message: IncomingMessage): void {
    if (run.finished) return;
    const parsed = parseDpsResponseTopic(message.topic);
    if (!parsed.ok) {
      this.log('warn', `ignoring a message on an unexpected topic: ${parsed.error.message}`);
      return;
    }
    const { status, rid, retryAfterSeconds } = parsed.value;
    if (rid !== run.pendingRid) {
      this.log('debug', `ignoring an answer for $rid=${rid}, which is not the request waiting`);
      return;
    }
    run.pendingRid = undefined;
    this.clearTimer(run.responseTimer);
    run.responseTimer = undefined;
    const answer = retryAfterSeconds === undefined ? { status, payload: message.payload } : { status, retryAfterSeconds, payload: message.payload };
    const progress = {
      registrationId: run.plan.registrationId,
      requestsSent: run.requestsSent,
      elapsedMs: this.deps.timers.now() - run.startedAt,
      limits: run.plan.limits,
      ...(run.operationId === undefined ? {} : { operationId: run.operationId }),
    };
    this.apply(run, decideStep(answer, progress), status);
  }

  private apply(run: Run, step: DpsStep, status: number): void {
    switch (step.kind) {
      case 'assigned':
        this.finish(run, ok(step.result));
        return;
      case 'fail':
        this.finish(run, err(step.error));
        return;
      case 'poll':
      case 'register': {
        if (step.kind === 'poll') {
          if (run.operationId === undefined) this.log('info', `DPS accepted the registration as operation ${step.operationId}`);
          run.operationId = step.operationId;
        }
        const why = status < 300 ? `DPS is still assigning (status ${status})` : `DPS answered ${status}`;
        this.log('info', `${why}; next ${step.kind} in ${seconds(step.delayMs)}`);
        this.move('waiting');
        run.waitTimer = this.deps.timers.setTimeout(() => {
          run.waitTimer = undefined;
          this.send(run, step.kind);
        }, step.delayMs);
        return;
      }
    }
  }

  private onSessionClose(run: Run, reason: SessionCloseReason): void {
    // While connecting, connect()'s rejection says why, with the CONNACK code; after finish() the close is ours.
    if (run.finished || this.machine.state === 'connecting') return;
    const details: { retryable: boolean; transportCode?: string } = { retryable: true };
    if (reason.transportError !== undefined) details.transportCode = reason.transportError.code;
    this.finish(run, err(new DpsError('connection-lost', `the DPS connection ended during the registration: ${reason.message}`, details)));
  }

  private failIfRunning(run: Run, code: 'connection-lost' | 'timeout', message: string, retryable = true): void {
    if (!run.finished) this.finish(run, err(new DpsError(code, message, { retryable })));
  }

  /** Stops everything, closes the connection and waits for the transport to be gone, then settles. */
  private finish(run: Run, outcome: Outcome): void {
    if (run.finished) return;
    run.finished = true;
    this.clearTimer(run.deadlineTimer);
    this.clearTimer(run.responseTimer);
    this.clearTimer(run.waitTimer);
    run.deadlineTimer = run.responseTimer = run.waitTimer = undefined;
    run.session.setMessageHandler(undefined);
    if (outcome.ok) {
      const { assignedHub, deviceId, substatus } = outcome.value;
      this.log('info', `assigned to hub ${assignedHub} as device ${deviceId}${substatus === undefined ? '' : ` (${substatus})`}`);
    } else {
      this.log(outcome.error.code === 'cancelled' ? 'info' : 'error', `registration ended: ${outcome.error.message}`);
    }
    this.move('closing');
    void this.close(run).then(() => {
      this.move('done');
      if (this.run === run) this.run = undefined;
      if (outcome.ok) run.resolve(outcome.value);
      else run.reject(outcome.error);
    });
  }

  private async close(run: Run): Promise<void> {
    // finish() often runs inside the message handler: let it return first so a QoS 1 answer is acknowledged.
    await Promise.resolve();
    try {
      await run.session.disconnect();
    } catch (error) {
      this.log('warn', `disconnect failed: ${errorText(error)}`);
    }
    const closed = await run.watch.allClosed(this.deps.timers, run.plan.limits.closeTimeoutMs);
    if (closed) this.log('debug', 'DPS connection closed');
    else this.log('warn', `the transport did not report closing within ${run.plan.limits.closeTimeoutMs} ms; going on`);
  }

  // ---- Helpers ---------------------------------------------------------------------------------------------

  /** Moves along DPS_MOVES; an illegal move is refused by the helper's one policy (a bug in this file). */
  private move(next: DpsState): boolean {
    const previous = this.machine.state;
    if (!this.machine.move(next)) return false;
    this.emit('state', { state: next, previous });
    return true;
  }

  private clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.deps.timers.clearTimeout(handle);
  }

  private log(level: LogLevel, message: string): void {
    this.deps.logger.log(level, `dps: ${message}`);
  }
}

/** A failed connect() as a DpsError; whether it is retryable is the failure policy's word (`dps` path). */
export function connectError(error: unknown): DpsError {
  if (!(error instanceof MqttConnectError)) {
    // Our own CONNECT could not be written (a bad option, a packet the codec refuses), or the session was busy.
    const cause = mqttErrorCause(error) ?? 'local-config';
    const code = cause === 'local-config' ? 'invalid-config' : 'connect-failed';
    return new DpsError(code, `could not connect to DPS: ${errorText(error)}`, { retryable: isRetry(decideFailure('dps', cause)) });
  }
  const reason = error.reason;
  if (reason.code === 'local') return new DpsError('cancelled', 'registration cancelled while connecting', { retryable: true });
  const cause = sessionCloseCause(reason);
  const retryable = isRetry(decideFailure('dps', cause));
  const returnCode = error.returnCode;
  if (returnCode === 2 || returnCode === 4 || returnCode === 5) {
    return new DpsError('unauthorized', `DPS refused the credentials: ${reason.message}`, { retryable, returnCode });
  }
  if (returnCode !== undefined) {
    return new DpsError('connect-failed', `DPS refused the connection: ${reason.message}`, { retryable, returnCode });
  }
  const details: { retryable: boolean; transportCode?: string } = { retryable };
  if (reason.transportError !== undefined) details.transportCode = reason.transportError.code;
  return new DpsError('connect-failed', `could not connect to DPS: ${reason.message}`, details);
}
