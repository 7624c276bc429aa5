// Timers whose clock and deadlines live on the Node side: XS arms timer N, Node later says "timer N fired".
// Whether Node runs real timers or a virtual clock is its choice; this side cannot tell.
import type { TimerHandle, Timers } from '../../src/ports';
import type { BridgeClient } from './bridge-client';

export class BridgedTimers implements Timers {
  private nextId = 1;
  private readonly callbacks = new Map<number, () => void>();

  constructor(private readonly bridge: BridgeClient) {}

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = this.nextId++;
    this.callbacks.set(timer, callback);
    this.bridge.request({ op: 'timer-arm', timer, ms: Number.isFinite(ms) && ms > 0 ? ms : 0 });
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number' && this.callbacks.delete(handle)) this.bridge.request({ op: 'timer-cancel', timer: handle });
  }

  now(): number {
    return this.bridge.request({ op: 'now' }).ms;
  }

  /** Node says the timer fell due. A fire for a timer cancelled meanwhile is ignored. */
  fire(timer: number): void {
    const callback = this.callbacks.get(timer);
    if (!callback) return;
    this.callbacks.delete(timer);
    callback();
  }

  get pendingCount(): number {
    return this.callbacks.size;
  }
}
