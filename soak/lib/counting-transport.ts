// Wraps a TransportFactory to count connection attempts and record how each ended: the evidence that a failing
// endpoint gets a bounded number of attempts (no retry storm) and that each failure carried a clear code.

import type { TransportError, TransportFactory } from '../../src/ports';

export interface AttemptRecord {
  /** Milliseconds since the counter was created. */
  atMs: number;
  host: string;
  port: number;
  serverName: string | undefined;
  connected: boolean;
  error?: TransportError;
}

export interface CountingTransport {
  factory: TransportFactory;
  attempts: AttemptRecord[];
}

export function countingTransport(inner: TransportFactory, now: () => number = Date.now): CountingTransport {
  const started = now();
  const attempts: AttemptRecord[] = [];
  const factory: TransportFactory = {
    connect(options, events) {
      const record: AttemptRecord = { atMs: now() - started, host: options.host, port: options.port, serverName: options.serverName, connected: false };
      attempts.push(record);
      return inner.connect(options, {
        onConnect: () => {
          record.connected = true;
          events.onConnect();
        },
        onData: (chunk) => events.onData(chunk),
        onWritable: () => events.onWritable(),
        onError: (error) => {
          record.error = error;
          events.onError(error);
        },
        onClose: (reason) => events.onClose(reason),
      });
    },
  };
  return { factory, attempts };
}
