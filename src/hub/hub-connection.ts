// The hub client's one connection, kept up for the life of the client: each attempt signs with the current
// identity and connects the MQTT session; a failed attempt is carried out as decideAttemptStep() says (backoff,
// the throttling floor, the clock re-check, or a stop with its slow retry); a lost connection is retried with
// backoff; the SAS token is renewed by a planned reconnect once in-flight work has drained. Every move goes
// through hub-state.ts's table. What runs on the connection (subscriptions, channels) is the owner's, reached
// through onUp/onDown/idle.

import type { LogLevel, TimerHandle } from '../ports';
import type { MqttSession } from '../mqtt/session';
import type { SessionCloseReason } from '../mqtt/session-types';
import { backoffDelay, type RandomSource } from '../failure/backoff';
import { decideAttemptStep } from './attempt-steps';
import { buildConnectPlan, type ConnectPlan, type ConnectSettings } from './connect-plan';
import type { HubIdentity } from '../identity';
import type { HubError } from './hub-error';
import type { HubSettings } from './hub-settings';
import { hubStateMachine, isOnline, type HubInput, type HubState } from './hub-state';
import type { HubClientEvents, HubClientPorts, HubDisconnectCode } from './hub-types';
import { renewalDelayMs } from './renewal';

type ConnectionEvent = 'state' | 'connected' | 'disconnected' | 'reconnecting';

export interface HubConnectionDeps {
  ports: HubClientPorts;
  session: MqttSession;
  settings: HubSettings;
  connectSettings: ConnectSettings;
  random: RandomSource;
  identity: HubIdentity;
  emit<K extends ConnectionEvent>(event: K, payload: HubClientEvents[K]): void;
  report(error: HubError): void;
  log(level: LogLevel, message: string): void;
  /** CONNACK accepted (synchronously, so the owner's SUBSCRIBE is the first packet out); `current()` stays true while this connection is up. */
  onUp(current: () => boolean): void;
  /** The session closed. */
  onDown(): void;
  /** Nothing written is still waiting for its answer: a renewal drain may end. */
  idle(): boolean;
}

interface Waiter {
  resolve(): void;
  reject(error: HubError): void;
}

export class HubConnection {
  private readonly machine = hubStateMachine((message) => this.deps.log('error', message));
  private current: HubIdentity;
  /** Failed attempts in a row; the backoff exponent. */
  private failures = 0;
  /** Increments per attempt so the outcome of an abandoned attempt is ignored. */
  private attemptSeq = 0;
  private attemptStartedAt = 0;
  /** The identity the current attempt signed with: an auth refusal of older credentials is not final. */
  private attemptIdentity: HubIdentity | undefined;
  private plannedClose: HubDisconnectCode | undefined;
  private clockErrorReported = false;
  private waiters: Waiter[] = [];
  /** The plan of the current (or last) connection: its token's expiry drives the renewal. */
  private plan: ConnectPlan | undefined;
  private retryTimer: TimerHandle | undefined;
  private renewalTimer: TimerHandle | undefined;
  private drainTimer: TimerHandle | undefined;

  constructor(private readonly deps: HubConnectionDeps) {
    this.current = deps.identity;
    deps.session.on('connected', ({ sessionPresent }) => this.onSessionConnected(sessionPresent));
    deps.session.on('close', ({ reason }) => this.onSessionClosed(reason));
  }

  get state(): HubState {
    return this.machine.state;
  }

  get identity(): HubIdentity {
    return this.current;
  }

  /** Resolves once connected; see HubClient.connect(). */
  connect(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.state === 'idle' || this.state === 'stopped') {
      this.failures = 0;
      this.startAttempt('start');
    }
    return done;
  }

  /** From the next attempt on; a stopped or waiting client tries them at once. */
  useIdentity(identity: HubIdentity): void {
    this.current = identity;
    this.failures = 0;
    if (this.state === 'stopped' || this.state === 'waiting') {
      this.clearTimer('retry');
      this.startAttempt('start');
    }
  }

  /** A stuck connection (no PUBACK in time): end it; the session resends on the next one. */
  reconnectToResend(): void {
    this.plannedClose = 'ack-timeout';
    this.move('disconnect');
    void this.deps.session.disconnect();
  }

  /** During a renewal drain: disconnect once nothing written is still waiting for its answer. */
  checkDrain(): void {
    if (this.state === 'draining' && this.deps.idle()) this.finishDrain();
  }

  /** Moves to 'closed' and clears every timer; true when the session was connected. Waiters are the caller's to fail. */
  close(): boolean {
    const wasOnline = isOnline(this.state);
    this.move('close');
    for (const name of ['retry', 'renewal', 'drain'] as const) this.clearTimer(name);
    return wasOnline;
  }

  failWaiters(error: () => HubError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error());
  }

  // ---- attempts -------------------------------------------------------------------------------------------------

  private startAttempt(input: HubInput): void {
    if (!this.move(input)) return;
    const seq = ++this.attemptSeq;
    const { ports } = this.deps;
    this.attemptStartedAt = ports.timers.now();
    this.attemptIdentity = this.current;
    const plan = buildConnectPlan(this.current, this.deps.connectSettings, ports.clock.unixMs(), ports.crypto.hmacSha256);
    if (!plan.ok) {
      this.onAttemptFailed(seq, plan.error);
      return;
    }
    this.plan = plan.value;
    const { tls, clientId } = plan.value.options;
    this.deps.log('info', `connecting to ${tls.host}:${tls.port} as ${clientId}`);
    this.deps.session.connect(plan.value.options).then(
      () => undefined, // the session's 'connected' event did the work, synchronously with the CONNACK
      (error: unknown) => this.onAttemptFailed(seq, error),
    );
  }

  private onSessionConnected(sessionPresent: boolean): void {
    if (this.state !== 'connecting') return;
    this.move('connack');
    this.failures = 0;
    this.clockErrorReported = false;
    this.plannedClose = undefined;
    const seq = this.attemptSeq;
    this.deps.onUp(() => seq === this.attemptSeq && isOnline(this.state));
    this.scheduleRenewal();
    this.deps.log('info', `connected (session present: ${sessionPresent})`);
    this.deps.emit('connected', { sessionPresent });
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  /** Carries out decideAttemptStep() for a failed attempt. An 'error' listener may close the client meanwhile. */
  private onAttemptFailed(seq: number, error: unknown): void {
    if (seq !== this.attemptSeq || this.state !== 'connecting') return;
    const { settings } = this.deps;
    const step = decideAttemptStep({
      error,
      failures: this.failures,
      spentMs: this.deps.ports.timers.now() - this.attemptStartedAt,
      credentialsChanged: this.attemptIdentity !== this.current,
      clockReported: this.clockErrorReported,
      random: this.deps.random(),
      backoff: settings.backoff,
      stoppedRetryMs: settings.stoppedRetryMs,
    });
    if (step.kind === 'stop') {
      this.move('stop');
      this.deps.report(step.error);
      this.failWaiters(() => step.error);
      this.retrySlowly(step.delayMs);
      return;
    }
    if (step.kind === 'wait-for-clock') {
      if (step.report) {
        this.clockErrorReported = true;
        this.deps.report(step.error);
      }
      this.failWaiters(() => step.error);
    } else if (step.report !== undefined) {
      this.deps.report(step.report);
    }
    if (this.state !== 'connecting') return;
    this.move('retry');
    this.retryAfter(step.delayMs);
  }

  /** In 'waiting': the next attempt after the backoff's delay. */
  private retryAfter(delayMs: number): void {
    if (this.state !== 'waiting') return;
    this.failures++;
    this.deps.log('info', `reconnecting in ${delayMs} ms (attempt ${this.failures})`);
    this.deps.emit('reconnecting', { attempt: this.failures, delayMs });
    this.armRetry(delayMs, 'waiting', 'retry-due');
  }

  /** In 'stopped': refusals can clear by themselves, so one more attempt comes after the slow delay. */
  private retrySlowly(delayMs: number): void {
    if (this.state !== 'stopped') return;
    this.failures = 0;
    this.deps.emit('reconnecting', { attempt: 1, delayMs });
    this.armRetry(delayMs, 'stopped', 'start');
  }

  private armRetry(delayMs: number, from: HubState, input: HubInput): void {
    this.clearTimer('retry');
    if (this.state !== from) return; // a 'reconnecting' listener closed the client or gave new credentials
    this.retryTimer = this.deps.ports.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === from) this.startAttempt(input);
    }, delayMs);
  }

  // ---- the connection ends --------------------------------------------------------------------------------------

  private onSessionClosed(reason: SessionCloseReason): void {
    if (!isOnline(this.state)) return; // failed attempts are handled by connect()'s rejection; close() by itself
    const planned = this.plannedClose;
    this.plannedClose = undefined;
    for (const name of ['renewal', 'drain'] as const) this.clearTimer(name);
    this.deps.onDown();
    // A plan only counts once its DISCONNECT went out; a drop while draining is an ordinary loss.
    const code: HubDisconnectCode = this.state === 'disconnecting' && planned !== undefined ? planned : 'connection-lost';
    const message = code === 'renewal' ? 'planned reconnect to renew the SAS token' : reason.message;
    this.deps.log(code === 'connection-lost' ? 'warn' : 'info', `disconnected (${code}): ${message}`);
    if (code === 'renewal') {
      this.deps.emit('disconnected', { reason: { code, message, session: reason } });
      if (this.state === 'disconnecting') this.startAttempt('reconnect'); // unless a listener closed the client
      return;
    }
    this.move('lost');
    this.deps.emit('disconnected', { reason: { code, message, session: reason } });
    if (this.state !== 'waiting') return;
    const random = this.deps.random();
    this.retryAfter(backoffDelay({ attempt: this.failures, attemptDurationMs: 0, throttled: false, random }, this.deps.settings.backoff));
  }

  // ---- SAS renewal ----------------------------------------------------------------------------------------------

  private scheduleRenewal(): void {
    this.clearTimer('renewal');
    const token = this.plan?.token;
    if (token === undefined) return;
    const delay = renewalDelayMs(token.signedAtUnixMs, token.expiryUnixSeconds, this.deps.settings.renewAtFraction);
    this.renewalTimer = this.deps.ports.timers.setTimeout(() => {
      this.renewalTimer = undefined;
      this.beginRenewal();
    }, delay);
  }

  private beginRenewal(): void {
    if (!this.machine.can('renew')) return; // the connection is already ending (an acknowledgement timeout)
    this.move('renew');
    const drainMs = this.deps.settings.renewalDrainTimeoutMs;
    this.deps.log('info', 'renewing the SAS token: draining in-flight work before a planned reconnect');
    this.plannedClose = 'renewal';
    this.drainTimer = this.deps.ports.timers.setTimeout(() => {
      this.drainTimer = undefined;
      this.deps.log('warn', `drain did not finish within ${drainMs} ms; reconnecting anyway`);
      this.finishDrain();
    }, drainMs);
    this.checkDrain();
  }

  private finishDrain(): void {
    this.clearTimer('drain');
    this.move('drained');
    void this.deps.session.disconnect();
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  /** Moves by hub-state.ts's table (an illegal input is a bug: see src/state-machine.ts); true when moved. */
  private move(input: HubInput): boolean {
    const previous = this.machine.state;
    if (!this.machine.move(input)) return false;
    const next = this.machine.state;
    if (next !== previous) {
      this.deps.log('debug', `state ${previous} -> ${next}`);
      this.deps.emit('state', { state: next, previous });
    }
    return true;
  }

  private clearTimer(name: 'retry' | 'renewal' | 'drain'): void {
    const field = `${name}Timer` as const;
    const handle = this[field];
    if (handle !== undefined) this.deps.ports.timers.clearTimeout(handle);
    this[field] = undefined;
  }
}
