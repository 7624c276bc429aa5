// The network under the fake SecureSocket: one TCP socket per connection and, on the far side, a peer the test
// drives. Socket messages follow modules/network/socket (1 connected, 2 readable with the bytes available,
// 3 writable with the room left, -1 disconnected, -2 error). Records cross as objects, not TLS bytes: the fake
// session (fake-tls-session.ts) reads their meaning, the peer sees the application bytes the client sent.
// Every message is delivered synchronously from the peer call that causes it, as one callback from the run loop.

export type WireRecord =
  | { kind: 'client-hello' }
  | { kind: 'client-finished' }
  | { kind: 'server-hello'; chain: Uint8Array[] }
  | { kind: 'server-finished' }
  | { kind: 'alert'; description: number }
  | { kind: 'application'; payload: Uint8Array };

/** Bytes a record takes on the wire beyond its payload: header 5, explicit nonce 8, GCM tag 16. */
export const RECORD_OVERHEAD = 29;

export function wireLength(record: WireRecord): number {
  switch (record.kind) {
    case 'application':
      return record.payload.length + RECORD_OVERHEAD;
    case 'server-hello':
      return record.chain.reduce((n, cert) => n + cert.length + 3, 100);
    default:
      return 64;
  }
}

export interface SocketDictionary {
  host?: string;
  address?: string;
  port: number;
  secure?: Record<string, unknown>;
}

/** The client's TCP socket (modules/network/socket's Socket), as the fake SecureSocket uses it. */
export class FakeTcpSocket {
  callback: ((message: number, value?: number) => void) | undefined;
  readonly inbound: WireRecord[] = [];
  closed = false;
  /** When set, every write throws this, as the simulator's socket does on a connection that was refused. */
  failWrites: string | undefined;

  constructor(
    readonly peer: FakePeer,
    public room: number,
  ) {}

  /** Bytes waiting to be read. */
  read(): number {
    return this.inbound.reduce((n, record) => n + wireLength(record), 0);
  }

  /** Room left in the send buffer. */
  write(): number {
    return this.closed ? 0 : this.room;
  }

  take(): WireRecord | undefined {
    return this.inbound.shift();
  }

  send(record: WireRecord): void {
    if (this.closed) throw new Error('write on closed socket');
    if (this.failWrites !== undefined) throw new Error(this.failWrites);
    if (record.kind === 'application') {
      const length = wireLength(record);
      if (length > this.room) throw new Error('write failed: send buffer full');
      this.room -= length;
    }
    this.peer.sent.push(record);
  }

  close(): void {
    this.closed = true;
  }
}

/** The far end of one connection, driven by the test. */
export class FakePeer {
  /** Every record the client sent, handshake included. */
  readonly sent: WireRecord[] = [];
  /** The arguments of each SecureSocket.write(data...) call, exactly as the transport passed them. */
  readonly writeCalls: unknown[][] = [];
  readonly tcp: FakeTcpSocket;

  constructor(
    readonly dictionary: SocketDictionary,
    readonly capacity: number,
  ) {
    this.tcp = new FakeTcpSocket(this, capacity);
  }

  /** TCP is up (the lwIP "connected" message). */
  accept(): void {
    this.deliver(1);
  }

  /** As the Linux simulator does with a refused connection: it says connected, then every write fails. */
  acceptThenRefuse(): void {
    this.tcp.failWrites = 'write failed';
    this.deliver(1);
  }

  /** The socket reports an error: before TCP is up a failed DNS look-up or a refused connect; after, a reset. */
  fail(): void {
    this.deliver(-2);
  }

  /** The peer closed the TCP connection. */
  disconnect(): void {
    this.deliver(-1);
  }

  /** ServerHello through ServerHelloDone, with this certificate chain (DER, leaf first). */
  serverHello(chain: Uint8Array[]): void {
    this.arrive({ kind: 'server-hello', chain });
  }

  /** The server's ChangeCipherSpec and Finished: the handshake is complete. */
  finishHandshake(): void {
    this.arrive({ kind: 'server-finished' });
  }

  handshake(chain: Uint8Array[]): void {
    this.serverHello(chain);
    this.finishHandshake();
  }

  alert(description: number): void {
    this.arrive({ kind: 'alert', description });
  }

  /** Application bytes arrive, as one TLS record. */
  send(bytes: Uint8Array): void {
    this.arrive({ kind: 'application', payload: bytes });
  }

  /** The send buffer emptied down to `room` free bytes; the socket says so with a writable message. */
  drain(room = this.capacity): void {
    this.tcp.room = room;
    this.deliver(3, room);
  }

  /** The application bytes the client sent so far, joined. */
  received(): number[] {
    return this.applicationRecords().flatMap((payload) => [...payload]);
  }

  applicationRecords(): Uint8Array[] {
    return this.sent.flatMap((record) => (record.kind === 'application' ? [record.payload] : []));
  }

  handshakeSent(): string[] {
    return this.sent.flatMap((record) => (record.kind === 'application' ? [] : [record.kind]));
  }

  get closedByClient(): boolean {
    return this.tcp.closed;
  }

  private arrive(record: WireRecord): void {
    this.tcp.inbound.push(record);
    this.deliver(2, this.tcp.read());
  }

  private deliver(message: number, value?: number): void {
    if (!this.tcp.closed) this.tcp.callback?.(message, value);
  }
}

const DEFAULT_CAPACITY = 32768;

/** Every connection the code under test opened, newest last. */
export const fakeNetwork = {
  peers: [] as FakePeer[],
  /** Send-buffer size of sockets opened from now on. */
  capacity: DEFAULT_CAPACITY,
  get last(): FakePeer {
    const peer = this.peers[this.peers.length - 1];
    if (!peer) throw new Error('fake network: nothing opened a socket');
    return peer;
  },
  open(dictionary: SocketDictionary): FakeTcpSocket {
    const peer = new FakePeer(dictionary, this.capacity);
    this.peers.push(peer);
    return peer.tcp;
  },
  reset(): void {
    this.peers.length = 0;
    this.capacity = DEFAULT_CAPACITY;
  },
};
