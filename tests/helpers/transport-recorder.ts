// Records what a Transport reports, in order, and lets a test await the moments it cares about.
import type { TransportCloseReason, TransportError, TransportEvents } from '../../src/ports';

export type RecordedTransportEvent =
  | { kind: 'connect' }
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'writable' }
  | { kind: 'error'; error: TransportError }
  | { kind: 'close'; reason: TransportCloseReason };

export interface TransportRecorder {
  events: TransportEvents;
  log: RecordedTransportEvent[];
  connected: Promise<void>;
  closed: Promise<TransportCloseReason>;
  writable(): Promise<void>;
  /** Resolves once at least `length` bytes have arrived, with all of them joined. */
  received(length: number): Promise<Uint8Array>;
  kinds(): string[];
}

export function recordTransport(): TransportRecorder {
  const log: RecordedTransportEvent[] = [];
  const waiters: (() => void)[] = [];
  const notify = (): void => {
    for (const waiter of waiters.slice()) waiter();
  };
  const until = <T>(probe: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        waiters.splice(waiters.indexOf(check), 1);
        resolve(value);
      };
      waiters.push(check);
      check();
    });
  const push = (event: RecordedTransportEvent): void => {
    log.push(event);
    notify();
  };
  const bytesSoFar = (): Uint8Array => {
    const chunks = log.flatMap((e) => (e.kind === 'data' ? [e.bytes] : []));
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return all;
  };
  const events: TransportEvents = {
    onConnect: () => push({ kind: 'connect' }),
    onData: (bytes) => push({ kind: 'data', bytes }),
    onWritable: () => push({ kind: 'writable' }),
    onError: (error) => push({ kind: 'error', error }),
    onClose: (reason) => push({ kind: 'close', reason }),
  };
  return {
    events,
    log,
    connected: until(() => (log.some((e) => e.kind === 'connect') ? true : undefined)).then(() => undefined),
    closed: until(() => {
      const close = log.find((e) => e.kind === 'close');
      return close?.kind === 'close' ? close.reason : undefined;
    }),
    writable: () => until(() => (log.some((e) => e.kind === 'writable') ? true : undefined)).then(() => undefined),
    received: (length) =>
      until(() => {
        const all = bytesSoFar();
        return all.length >= length ? all : undefined;
      }),
    kinds: () => log.map((e) => e.kind),
  };
}
