// The device twin over MQTT: GET and reported-property PATCH requests matched to their answers by $rid,
// desired-property patches, and the GET the client issues after every (re)connect to catch up on desired
// changes made while it was away. Nothing is written on a connection until the hub has acknowledged the
// subscription to the twin response topic: the hub does not promise to deliver an answer on a subscription it
// has not acknowledged yet, and a lost catch-up answer would cost the operation timeout plus a backoff.
// Requests made before that (offline, before the SUBACK, or while a renewal drains) wait in PendingOps and are
// written once the subscription is in place; retryable answers (429, 5xx) are retried with backoff within the
// request's deadline. The reconciler decides which desired states reach the application.

import type { LogLevel, TimerHandle, Timers } from '../ports';
import { checkTwinPatch } from '../azure/limits';
import { parseDesiredPatch, parseTwinDocument, type TwinDocument } from '../azure/twin-json';
import { twinGetTopic, twinPatchReportedTopic, type TwinDesiredUpdate, type TwinResponse } from '../azure/twin-topics';
import { isSuccessStatus } from '../azure/status';
import { utf8Encode } from '../encoding/utf8';
import { backoffDelay, type BackoffPolicy, type RandomSource } from '../failure/backoff';
import { DesiredReconciler, type DesiredAction } from './desired-reconciler';
import { classifyStatus, classifyFailure } from './failure-cause';
import { errorText, isThenable } from '../errors';
import { err, ok, type Result } from '../result';
import { HubError, closedError } from './hub-error';
import { PendingOps } from './pending-ops';
import type { DesiredHandler } from './hub-types';

export type { TwinDocument };

interface TwinAnswer {
  status: number;
  version?: number;
  payload: Uint8Array;
}

export interface TwinChannelDeps {
  timers: Timers;
  /** Writes a QoS 0 PUBLISH; rejects when the connection ended before it was written. */
  send(topic: string, payload: Uint8Array): Promise<void>;
  /** True while new requests may be written (connected, not draining). */
  canSend(): boolean;
  nextRid(): string;
  random: RandomSource;
  backoff: BackoffPolicy;
  operationTimeoutMs: number;
  maxPending: number;
  report(error: HubError): void;
  log(level: LogLevel, message: string): void;
  /** Something finished: the client re-checks whether a renewal drain is complete. */
  onSettled(): void;
}

const EMPTY = new Uint8Array(0);

export class TwinChannel {
  private readonly ops: PendingOps<TwinAnswer>;
  private readonly reconciler = new DesiredReconciler();
  private readonly handlers: DesiredHandler[] = [];
  private syncRid: string | undefined;
  private syncTimer: TimerHandle | undefined;
  private syncFailures = 0;
  /** The hub acknowledged this connection's subscription to the twin response topic. */
  private subscribed = false;
  private closed = false;

  constructor(private readonly deps: TwinChannelDeps) {
    this.ops = new PendingOps<TwinAnswer>(deps.timers, { maxPending: deps.maxPending, onReady: () => this.flush() });
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.ops.sentCount;
  }

  /** Requests accepted and not yet settled, waiting ones included. */
  get pending(): number {
    return this.ops.size;
  }

  get lastDesiredVersion(): number | undefined {
    return this.reconciler.lastApplied;
  }

  onDesired(handler: DesiredHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  getTwin(): Promise<TwinDocument> {
    return new Promise<TwinDocument>((resolve, reject) => {
      if (this.closed) {
        reject(closedError());
        return;
      }
      this.request(twinGetTopic, EMPTY, (answer) => this.acceptTwin(answer), resolve, reject);
    });
  }

  /** Resolves with the reported properties' new $version once the hub accepted the patch. */
  patchReported(patch: unknown): Promise<number | undefined> {
    return new Promise<number | undefined>((resolve, reject) => {
      if (this.closed) {
        reject(closedError());
        return;
      }
      const json = checkTwinPatch(patch);
      if (!json.ok) {
        const code = json.error.code === 'too-large' ? 'too-large' : 'invalid-argument';
        reject(new HubError(code, `reported patch: ${json.error.message}`, { field: json.error.field, cause: json.error }));
        return;
      }
      this.request(twinPatchReportedTopic, utf8Encode(json.value), (answer) => ok(answer.version), resolve, reject);
    });
  }

  /**
   * Queues a caller's request under a fresh $rid (written at once when the connection allows); `accept` turns
   * the hub's answer into the result, or into the error to reject with.
   */
  private request<T>(
    topicFor: (rid: string) => string,
    payload: Uint8Array,
    accept: (answer: TwinAnswer) => Result<T, HubError>,
    resolve: (value: T) => void,
    reject: (error: HubError) => void,
  ): void {
    const rid = this.deps.nextRid();
    const refused = this.ops.add(
      {
        rid,
        topic: topicFor(rid),
        payload,
        replay: true,
        resolve: (answer) => {
          const result = accept(answer);
          if (result.ok) resolve(result.value);
          else reject(result.error);
        },
        reject: (error) => {
          reject(error);
          this.deps.onSettled();
        },
      },
      this.deps.operationTimeoutMs,
    );
    if (refused !== undefined) reject(refused);
    else this.flush();
  }

  /** A new connection is up; its SUBSCRIBE is on the way. Nothing is written until onSubscribed(). */
  onConnected(): void {
    this.reconciler.onConnected();
    this.syncFailures = 0;
    this.subscribed = false;
  }

  /** The hub acknowledged the twin response subscription: GET the twin first, then write whatever waited. */
  onSubscribed(): void {
    if (this.closed) return;
    this.subscribed = true;
    this.startSync();
    this.flush();
  }

  /** The connection ended: written requests will be written again; the catch-up GET is re-issued next time. */
  onDisconnected(): void {
    this.subscribed = false;
    this.ops.onDisconnected();
    this.syncRid = undefined;
    this.clearSyncTimer();
  }

  /** Writes every queued request if the connection allows it. */
  flush(): void {
    if (!this.canWrite()) return;
    for (const op of this.ops.queued()) this.write(op.rid, op.topic, op.payload);
  }

  /** An answer on the twin response topic (the topic router parsed it). */
  handleResponse(response: TwinResponse, payload: Uint8Array): void {
    const { status, rid, version } = response;
    if (!this.ops.has(rid)) {
      this.deps.log('debug', `twin answer for unknown or expired $rid=${rid} ignored`);
      return;
    }
    if (!isSuccessStatus(status)) {
      const failure = classifyStatus(status);
      const retryable = failure.kind === 'retryable';
      const pending = this.ops.get(rid);
      if (retryable && pending !== undefined && pending.replay) {
        const delay = backoffDelay(
          { attempt: pending.retries, attemptDurationMs: 0, throttled: failure.throttled, random: this.deps.random() },
          this.deps.backoff,
        );
        this.deps.log('info', `twin request $rid=${rid} answered ${status}; retrying in ${delay} ms`);
        this.ops.retryLater(rid, delay);
        this.deps.onSettled();
        return;
      }
      this.ops.settle(rid)?.reject(new HubError('status', `the hub answered twin request $rid=${rid} with status ${status}`, { status, retryable }));
      this.deps.onSettled();
      return;
    }
    const answer: TwinAnswer = { status, payload };
    if (version !== undefined) answer.version = version;
    this.ops.settle(rid)?.resolve(answer);
    this.deps.onSettled();
  }

  /** A desired-properties patch (the topic router parsed its topic). */
  handleDesired(update: TwinDesiredUpdate, payload: Uint8Array): void {
    const patch = parseDesiredPatch(payload, update.version);
    if (!patch.ok) {
      this.deps.report(new HubError('invalid-response', `desired patch: ${patch.error.message}`, { cause: patch.error }));
      return;
    }
    const step = this.reconciler.onPatch(patch.value.patch, patch.value.version);
    this.apply(step.apply);
    if (step.resync) {
      this.deps.log('info', `desired version jumped to ${patch.value.version}: a patch was missed, reading the twin again`);
      this.startSync();
    }
  }

  /** Rejects everything with 'closed' and clears every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearSyncTimer();
    this.syncRid = undefined;
    this.ops.rejectAll(() => closedError('before the twin request completed'));
  }

  // ---- internals ----

  private write(rid: string, topic: string, payload: Uint8Array): void {
    this.ops.markSent(rid);
    this.deps.send(topic, payload).then(
      () => undefined,
      () => this.ops.markQueued(rid), // never reached the hub; written again on the next connection
    );
  }

  /** The GET after a connect (or after a missed patch): its desired section feeds the reconciler. */
  private startSync(): void {
    if (this.closed || this.syncRid !== undefined) return;
    this.clearSyncTimer();
    const rid = this.deps.nextRid();
    this.syncRid = rid;
    const refused = this.ops.add(
      {
        rid,
        topic: twinGetTopic(rid),
        payload: EMPTY,
        replay: false,
        resolve: (answer) => {
          if (this.syncRid === rid) this.syncRid = undefined;
          const doc = this.acceptTwin(answer);
          if (doc.ok) this.syncFailures = 0;
          else this.syncFailed(rid, doc.error);
        },
        reject: (error) => {
          this.syncFailed(rid, error);
          this.deps.onSettled();
        },
      },
      this.deps.operationTimeoutMs,
    );
    if (refused !== undefined) {
      this.syncRid = undefined;
      return;
    }
    if (this.canWrite()) this.write(rid, twinGetTopic(rid), EMPTY);
  }

  private syncFailed(rid: string, error: HubError): void {
    if (this.syncRid === rid) this.syncRid = undefined;
    if (this.closed || error.code === 'closed') return;
    const failure = classifyFailure(error);
    if (failure.kind !== 'retryable' && error.code !== 'invalid-response') {
      this.deps.report(new HubError(error.code, `reading the twin after connecting failed: ${error.message}`, { status: error.status, cause: error }));
      return;
    }
    const delay = backoffDelay(
      { attempt: this.syncFailures++, attemptDurationMs: 0, throttled: failure.kind === 'retryable' && failure.throttled, random: this.deps.random() },
      this.deps.backoff,
    );
    this.deps.log('warn', `reading the twin failed (${errorText(error)}); trying again in ${delay} ms`);
    this.clearSyncTimer();
    this.syncTimer = this.deps.timers.setTimeout(() => {
      this.syncTimer = undefined;
      if (this.canWrite()) this.startSync();
    }, delay);
  }

  /** Connected, not draining, and the twin response subscription acknowledged on this connection. */
  private canWrite(): boolean {
    return !this.closed && this.subscribed && this.deps.canSend();
  }

  private clearSyncTimer(): void {
    if (this.syncTimer !== undefined) this.deps.timers.clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
  }

  /** Parses a GET answer and lets the reconciler apply its desired section if it is newer. */
  private acceptTwin(answer: TwinAnswer): Result<TwinDocument, HubError> {
    const doc = parseTwinDocument(answer.payload);
    if (!doc.ok) return err(new HubError('invalid-response', `twin document: ${doc.error.message}`, { cause: doc.error }));
    const step = this.reconciler.onTwin(doc.value.desired, doc.value.desiredVersion);
    this.apply(step.apply);
    if (step.resync) this.startSync();
    return doc;
  }

  private apply(actions: DesiredAction[]): void {
    for (const action of actions) {
      for (const handler of this.handlers.slice()) {
        const fail = (error: unknown): void =>
          this.deps.report(new HubError('handler-failed', `desired-properties handler failed: ${errorText(error)}`, { cause: error }));
        try {
          const result = handler(action.patch, action.version, { full: action.full });
          if (isThenable(result)) result.then(undefined, fail);
        } catch (error) {
          fail(error);
        }
      }
    }
  }
}
