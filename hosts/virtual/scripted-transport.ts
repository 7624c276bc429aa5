// An in-memory TransportFactory driven by the test: it records every connection and every byte written,
// and the test plays the network's part (TLS up, bytes arriving, peer close, failures, a full send buffer).
// Host-neutral on purpose (no Node imports) so the same scripts run on XS.

import type {
  TlsConnectOptions,
  Transport,
  TransportCloseReason,
  TransportError,
  TransportEvents,
  TransportFactory,
} from '../../src/ports';
import { fromHex, toHex } from './hex';

/** Optional hooks to see traffic as it happens, e.g. to interleave it with events in a transcript. */
export interface ScriptedTransportObserver {
  onOpen?(connection: ScriptedConnection): void;
  onWrite?(connection: ScriptedConnection, bytes: Uint8Array): void;
  onClose?(connection: ScriptedConnection, reason: TransportCloseReason): void;
}

export class ScriptedConnection {
  /** Every chunk the client wrote, in order: the client's own arrays (no copy; the client never changes them). */
  readonly written: Uint8Array[] = [];
  /** Writes attempted after the connection closed: a client bug worth asserting on. */
  writesAfterClose = 0;
  closeReason: TransportCloseReason | undefined;
  /** What `write` returns; false simulates a full host send buffer. */
  private acceptsWrites = true;
  private taken = 0;
  readonly transport: Transport;

  constructor(
    readonly index: number,
    readonly options: TlsConnectOptions,
    private readonly events: TransportEvents,
    private readonly observer: ScriptedTransportObserver,
  ) {
    this.transport = {
      write: (bytes) => this.onClientWrite(bytes),
      close: () => this.finish({ by: 'local', message: 'closed by the client' }),
    };
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** The TLS handshake completed. */
  open(): void {
    if (!this.closed) this.events.onConnect();
  }

  /** Bytes arrive from the peer (hex text or bytes). */
  push(data: Uint8Array | string): void {
    if (this.closed) return;
    this.events.onData(typeof data === 'string' ? fromHex(data) : data);
  }

  /** The peer ended the connection cleanly. */
  peerClose(message = 'closed by the peer'): void {
    this.finish({ by: 'peer', message });
  }

  /** The connection failed: onError then onClose, as the port promises. */
  fail(error: TransportError): void {
    if (this.closed) return;
    this.events.onError(error);
    this.finish({ by: 'error', code: error.code, message: error.message });
  }

  /** From now on `write` returns false (bytes are still taken), until `drain`. */
  blockWrites(): void {
    this.acceptsWrites = false;
  }

  /** The send buffer emptied: `write` returns true again and the client hears onWritable. */
  drain(): void {
    if (this.closed) return;
    this.acceptsWrites = true;
    this.events.onWritable();
  }

  /** Every write so far as hex. */
  writtenHex(): string[] {
    return this.written.map(toHex);
  }

  /** The writes since the previous `takeHex` call, as hex. */
  takeHex(): string[] {
    const fresh = this.written.slice(this.taken).map(toHex);
    this.taken = this.written.length;
    return fresh;
  }

  private onClientWrite(bytes: Uint8Array): boolean {
    if (this.closed) {
      this.writesAfterClose++;
      return false;
    }
    this.written.push(bytes);
    this.observer.onWrite?.(this, bytes);
    return this.acceptsWrites;
  }

  private finish(reason: TransportCloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.observer.onClose?.(this, reason);
    // Delivered synchronously, even for a close the client asked for: a client must cope with re-entry.
    this.events.onClose(reason);
  }
}

export class ScriptedTransportFactory implements TransportFactory {
  readonly connections: ScriptedConnection[] = [];

  constructor(private readonly observer: ScriptedTransportObserver = {}) {}

  connect(options: TlsConnectOptions, events: TransportEvents): Transport {
    const connection = new ScriptedConnection(this.connections.length, options, events, this.observer);
    this.connections.push(connection);
    this.observer.onOpen?.(connection);
    return connection.transport;
  }

  /** The most recent connection; throws when the client never connected, so a test fails clearly. */
  get last(): ScriptedConnection {
    const connection = this.connections[this.connections.length - 1];
    if (connection === undefined) throw new Error('the client has not opened a transport yet');
    return connection;
  }
}
