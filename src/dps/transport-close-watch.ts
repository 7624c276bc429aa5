// The MQTT session lets go of a transport as soon as it has asked it to close; the socket itself may linger a
// moment (TLS close_notify, flushing the DISCONNECT). Provisioning promises that the DPS connection is really
// gone before the hub connection opens, so this wrapper tells when every transport it opened reported onClose.

import type { TimerHandle, Timers, TlsConnectOptions, Transport, TransportEvents, TransportFactory } from '../ports';

export class TransportCloseWatch implements TransportFactory {
  private open = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly inner: TransportFactory) {}

  /** Transports opened through this factory that have not reported onClose yet. */
  get openCount(): number {
    return this.open;
  }

  connect(options: TlsConnectOptions, events: TransportEvents): Transport {
    let closed = false;
    this.open++;
    const onClose: TransportEvents['onClose'] = (reason) => {
      if (!closed) {
        closed = true;
        this.open--;
      }
      try {
        events.onClose(reason);
      } finally {
        if (this.open === 0) this.release();
      }
    };
    try {
      // Passed on by name: a listener may be a class instance, whose methods a spread would not copy.
      return this.inner.connect(options, {
        onConnect: () => events.onConnect(),
        onData: (chunk) => events.onData(chunk),
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose,
      });
    } catch (error) {
      if (!closed) {
        closed = true;
        this.open--;
        if (this.open === 0) this.release();
      }
      throw error;
    }
  }

  /** Resolves true once nothing is open, or false when `timeoutMs` passed first. */
  allClosed(timers: Timers, timeoutMs: number): Promise<boolean> {
    if (this.open === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: TimerHandle | undefined;
      const waiter = (): void => {
        if (timer !== undefined) timers.clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(waiter);
      timer = timers.setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
    });
  }

  private release(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
