// Twin requests the client has accepted and not yet answered, keyed by $rid. Each request stays here from the
// call until its answer, its deadline or close(): while the client is offline (or draining for a renewal) it
// waits as 'queued'; once written it is 'sent'; after a retryable answer it is 'waiting' for a retry timer.
// A connection that ends turns every 'sent' request back into 'queued' so it is written again on the next one:
// the answer to the old write can never arrive, and a duplicate GET or reported patch is harmless.
// The table owns its timers and clears every one of them when requests settle or the owner gives up.

import type { TimerHandle, Timers } from '../ports';
import { HubError } from './hub-error';

export type OpState = 'queued' | 'sent' | 'waiting';

export interface PendingOp<R> {
  readonly rid: string;
  readonly topic: string;
  readonly payload: Uint8Array;
  /** Written again after a reconnect; false for requests the client re-issues itself on every connection. */
  readonly replay: boolean;
  state: OpState;
  /** How many answers asking to retry (429, 5xx) it has had. */
  retries: number;
  resolve(value: R): void;
  reject(error: HubError): void;
}

interface Entry<R> {
  op: PendingOp<R>;
  deadline?: TimerHandle;
  retryTimer?: TimerHandle;
}

export interface PendingOpsOptions {
  /** Callers' requests accepted and not yet answered, at most; beyond it add() refuses with 'queue-full'. The client's own (not replayed) requests do not count. */
  maxPending: number;
  /** Called when a 'waiting' request becomes 'queued' again, so the owner can write it if connected. */
  onReady(): void;
}

export class PendingOps<R> {
  private readonly entries = new Map<string, Entry<R>>();

  constructor(
    private readonly timers: Timers,
    private readonly options: PendingOpsOptions,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Requests written and waiting for their answer. */
  get sentCount(): number {
    let n = 0;
    for (const { op } of this.entries.values()) if (op.state === 'sent') n++;
    return n;
  }

  private replayCount(): number {
    let n = 0;
    for (const { op } of this.entries.values()) if (op.replay) n++;
    return n;
  }

  has(rid: string): boolean {
    return this.entries.has(rid);
  }

  get(rid: string): PendingOp<R> | undefined {
    return this.entries.get(rid)?.op;
  }

  /**
   * Accepts a request as 'queued'. `timeoutMs` counts from now and covers every wait (offline, retries, the
   * answer); undefined means no deadline. Returns a 'queue-full' error instead when the table is full.
   */
  add(op: Omit<PendingOp<R>, 'state' | 'retries'>, timeoutMs: number | undefined): HubError | undefined {
    if (op.replay && this.replayCount() >= this.options.maxPending) {
      return new HubError('queue-full', `${this.options.maxPending} twin requests are already pending`);
    }
    const entry: Entry<R> = { op: { ...op, state: 'queued', retries: 0 } };
    if (timeoutMs !== undefined) {
      entry.deadline = this.timers.setTimeout(() => {
        entry.deadline = undefined;
        this.settle(op.rid)?.reject(new HubError('timeout', `no answer to twin request $rid=${op.rid} within ${timeoutMs} ms`));
      }, timeoutMs);
    }
    this.entries.set(op.rid, entry);
    return undefined;
  }

  /** Requests to write now, oldest first. */
  queued(): PendingOp<R>[] {
    const list: PendingOp<R>[] = [];
    for (const { op } of this.entries.values()) if (op.state === 'queued') list.push(op);
    return list;
  }

  markSent(rid: string): void {
    const entry = this.entries.get(rid);
    if (entry !== undefined) entry.op.state = 'sent';
  }

  /** Back to 'queued' (the write failed before reaching the hub). */
  markQueued(rid: string): void {
    const entry = this.entries.get(rid);
    if (entry !== undefined && entry.op.state === 'sent') entry.op.state = 'queued';
  }

  /** Removes the request (answered, or given up) and clears its timers; the caller settles it. */
  settle(rid: string): PendingOp<R> | undefined {
    const entry = this.entries.get(rid);
    if (entry === undefined) return undefined;
    this.entries.delete(rid);
    this.clearTimers(entry);
    return entry.op;
  }

  /** Retry after `delayMs` (a 429 or 5xx answer). */
  retryLater(rid: string, delayMs: number): void {
    const entry = this.entries.get(rid);
    if (entry === undefined) return;
    entry.op.state = 'waiting';
    entry.op.retries++;
    if (entry.retryTimer !== undefined) this.timers.clearTimeout(entry.retryTimer);
    entry.retryTimer = this.timers.setTimeout(() => {
      entry.retryTimer = undefined;
      if (this.entries.get(rid) !== entry) return;
      entry.op.state = 'queued';
      this.options.onReady();
    }, delayMs);
  }

  /**
   * The connection ended: requests that were written go back to 'queued'; those that are not replayed are
   * removed and returned (their owner re-issues them on the next connection).
   */
  onDisconnected(): PendingOp<R>[] {
    const dropped: PendingOp<R>[] = [];
    for (const [rid, entry] of Array.from(this.entries)) {
      if (!entry.op.replay) {
        this.entries.delete(rid);
        this.clearTimers(entry);
        dropped.push(entry.op);
      } else if (entry.op.state === 'sent') {
        entry.op.state = 'queued';
      }
    }
    return dropped;
  }

  /** Removes every request, clears every timer and rejects each with `error()`. */
  rejectAll(error: () => HubError): void {
    const all = Array.from(this.entries.values());
    this.entries.clear();
    for (const entry of all) {
      this.clearTimers(entry);
      entry.op.reject(error());
    }
  }

  private clearTimers(entry: Entry<R>): void {
    if (entry.deadline !== undefined) this.timers.clearTimeout(entry.deadline);
    if (entry.retryTimer !== undefined) this.timers.clearTimeout(entry.retryTimer);
    entry.deadline = undefined;
    entry.retryTimer = undefined;
  }
}
