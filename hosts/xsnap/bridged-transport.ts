// TransportFactory whose sockets live on the Node side. Writes go out as requests (the reply carries the
// back-pressure answer); connect, data, writable, error and close come back as events.
import type { TlsConnectOptions, Transport, TransportEvents, TransportFactory } from '../../src/ports';
import type { XsEvent } from './bridge-protocol';
import type { BridgeClient } from './bridge-client';

type TransportEvent = Extract<XsEvent, { op: `transport-${string}` }>;

export class BridgedTransportFactory implements TransportFactory {
  private nextId = 1;
  private readonly open = new Map<number, TransportEvents>();

  constructor(private readonly bridge: BridgeClient) {}

  connect(options: TlsConnectOptions, events: TransportEvents): Transport {
    const conn = this.nextId++;
    this.open.set(conn, events);
    this.bridge.request({ op: 'connect', conn, options });
    let closeAsked = false;
    return {
      write: (bytes) => (this.open.has(conn) ? this.bridge.request({ op: 'write', conn, bytes }).accepted : false),
      close: () => {
        if (closeAsked || !this.open.has(conn)) return;
        closeAsked = true;
        this.bridge.request({ op: 'close', conn });
      },
    };
  }

  /** Delivers an event from the Node side; events for a connection already closed are dropped. */
  deliver(event: TransportEvent): void {
    const events = this.open.get(event.conn);
    if (!events) return;
    switch (event.op) {
      case 'transport-connect':
        events.onConnect();
        break;
      case 'transport-data':
        events.onData(event.bytes);
        break;
      case 'transport-writable':
        events.onWritable();
        break;
      case 'transport-error':
        events.onError(event.error);
        break;
      case 'transport-close':
        this.open.delete(event.conn);
        events.onClose(event.reason);
        break;
    }
  }

  get openCount(): number {
    return this.open.size;
  }
}
