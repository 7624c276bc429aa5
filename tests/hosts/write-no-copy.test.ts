// One copy of each byte (issue 11): src/ports.ts says the bytes given to Transport.write belong to the transport
// until written and the caller never changes them, so no host copies them. Each transport is written through
// here and checked twice: the bytes that go out equal what was written, and what the transport handed on is the
// caller's own buffer (or a view of it), not a copy. The only copies left are the ones a boundary makes by its
// nature: SecureSocket encrypting into its record, the xsnap bridge serialising a request.
import { TLSSocket, createServer as createTlsServer, type Server } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createModdableTransportFactory } from '../../hosts/moddable/transport';
import { createNodeTlsTransportFactory } from '../../hosts/node/node-tls-transport';
import { createMemoryStore, createNodeClock, createNodeCrypto } from '../../hosts/node/index';
import { ScriptedTransportFactory, VirtualClock } from '../../hosts/virtual';
import type { HostPorts, TransportEvents } from '../../src/ports';
import { fakeNetwork } from '../moddable/fakes/fake-network';
import { runLoop } from '../moddable/fakes/timer';
import { createXsLoopback } from '../helpers/xs-loopback';
import { recordTransport } from '../helpers/transport-recorder';

let ca: KeyAndCert;
let serverCert: KeyAndCert;

beforeAll(() => {
  ca = createCa('No Copy Test Root');
  serverCert = issueServerCertificate(ca);
});

/** `length` bytes in the middle of a larger buffer, so a view and a copy can be told apart. */
function payloadView(length: number): { backing: Uint8Array; bytes: Uint8Array } {
  const backing = Uint8Array.from({ length: length + 16 }, (_, i) => (i * 31 + 5) & 0xff);
  return { backing, bytes: backing.subarray(8, 8 + length) };
}

const silent: TransportEvents = {
  onConnect: () => undefined,
  onData: () => undefined,
  onWritable: () => undefined,
  onError: () => undefined,
  onClose: () => undefined,
};

/** Each part given to SecureSocket.write must lie inside `backing`, in order, covering `bytes` exactly. */
function expectViewsOf(parts: unknown[], backing: Uint8Array, bytes: Uint8Array): void {
  let offset = bytes.byteOffset;
  for (const part of parts) {
    expect(part).toBeInstanceOf(Uint8Array);
    const view = part as Uint8Array;
    expect(view.buffer).toBe(backing.buffer);
    expect(view.byteOffset).toBe(offset);
    offset += view.length;
  }
  expect(offset).toBe(bytes.byteOffset + bytes.length);
}

describe('Moddable transport (SecureSocket fake): the caller\'s bytes reach SecureSocket.write as themselves', () => {
  beforeEach(() => {
    fakeNetwork.reset();
    runLoop.reset();
  });

  /** The transport opens its socket, writes and closes from fresh promise jobs (a shallow XS stack): let them run. */
  async function jobs(): Promise<void> {
    for (let i = 0; i < 4; i++) await Promise.resolve();
  }

  async function securedPeer() {
    const transport = createModdableTransportFactory().connect({ host: 'localhost', port: 8883, trustedCAs: [ca.certDer] }, silent);
    await jobs();
    const peer = fakeNetwork.last;
    peer.accept();
    peer.handshake([serverCert.certDer]);
    return { transport, peer };
  }

  test('a write that fits: one call with the caller\'s view itself', async () => {
    const { transport, peer } = await securedPeer();
    const { bytes } = payloadView(300);
    transport.write(bytes);
    await jobs();
    expect(peer.writeCalls).toEqual([[bytes]]);
    expect(peer.writeCalls[0][0]).toBe(bytes);
    expect(peer.received()).toEqual([...bytes]);
  });

  test('a write sent in pieces (little room): every piece is a view of the caller\'s buffer', async () => {
    const { transport, peer } = await securedPeer();
    const { backing, bytes } = payloadView(1000);
    peer.tcp.room = 128 + 300;
    transport.write(bytes);
    await jobs();
    while (peer.received().length < bytes.length) peer.drain(128 + 300);
    expect(peer.writeCalls.length).toBe(4);
    expectViewsOf(peer.writeCalls.flat(), backing, bytes);
    expect(peer.received()).toEqual([...bytes]);
  });

  test('writes queued before the handshake share a record as separate views, not a joined copy', async () => {
    const transport = createModdableTransportFactory().connect({ host: 'localhost', port: 8883, trustedCAs: [ca.certDer] }, silent);
    await jobs();
    const peer = fakeNetwork.last;
    const first = payloadView(40);
    const second = payloadView(60);
    transport.write(first.bytes);
    transport.write(second.bytes);
    peer.accept();
    peer.handshake([serverCert.certDer]);
    await jobs();
    expect(peer.writeCalls.length).toBe(1);
    expect(peer.writeCalls[0][0]).toBe(first.bytes);
    expect(peer.writeCalls[0][1]).toBe(second.bytes);
    expect(peer.received()).toEqual([...first.bytes, ...second.bytes]);
  });
});

describe('Node TLS transport: the caller\'s bytes go to the TLS socket as a Buffer view, unchanged on the wire', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  test('one large write with back-pressure and one small one: every byte arrives, from views of the caller\'s buffers', async () => {
    const arrived: Buffer[] = [];
    let total = 0;
    let allArrived: () => void = () => undefined;
    server = createTlsServer({ key: serverCert.keyPem, cert: serverCert.certPem }, (socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        arrived.push(chunk);
        total += chunk.length;
        if (total >= expected.length) allArrived();
      });
    });
    server.on('connection', (socket: Socket) => void sockets.add(socket));
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const big = payloadView(1 << 20);
    const small = payloadView(5);
    const expected = [...big.bytes, ...small.bytes];
    const handedOn: unknown[] = [];
    const originalWrite = TLSSocket.prototype.write;
    const rec = recordTransport();
    const transport = createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 500 }).connect(
      { host: '127.0.0.1', port, serverName: 'localhost', trustedCAs: [ca.certDer] },
      rec.events,
    );
    await rec.connected;
    const done = new Promise<void>((resolve) => (allArrived = resolve));
    TLSSocket.prototype.write = function (this: TLSSocket, chunk: unknown, ...rest: unknown[]) {
      handedOn.push(chunk);
      return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof originalWrite;
    try {
      expect(transport.write(big.bytes)).toBe(false); // over the high-water mark: back-pressure, bytes kept
      transport.write(small.bytes);
    } finally {
      TLSSocket.prototype.write = originalWrite;
    }
    await done;
    transport.close();
    await rec.closed;

    expect(handedOn.length).toBe(2);
    for (const [chunk, view] of [
      [handedOn[0], big],
      [handedOn[1], small],
    ] as const) {
      expect(Buffer.isBuffer(chunk)).toBe(true);
      const buffer = chunk as Buffer;
      expect(buffer.buffer).toBe(view.backing.buffer);
      expect(buffer.byteOffset).toBe(view.bytes.byteOffset);
      expect(buffer.length).toBe(view.bytes.length);
    }
    expect(Buffer.concat(arrived).equals(Buffer.from(expected))).toBe(true);
  });
});

describe('xsnap bridged transport: the bytes cross the bridge once and reach the Node-side transport as a view', () => {
  test('the Node side gets exactly the bytes XS wrote, as a view into the request message', async () => {
    const clock = new VirtualClock(0);
    const scripted = new ScriptedTransportFactory();
    const ports: HostPorts = {
      transport: scripted,
      timers: clock,
      clock: createNodeClock({ notSet: true }),
      crypto: createNodeCrypto(),
      store: createMemoryStore(),
      logger: { log: () => undefined },
    };
    const { host, bridge } = createXsLoopback({ ports });
    const requests: Uint8Array[] = [];
    const serve = bridge.handleRequest;
    (bridge as { handleRequest: (bytes: Uint8Array) => Uint8Array }).handleRequest = (bytes) => {
      requests.push(bytes);
      return serve(bytes);
    };
    const xsTransport = host.ports.transport.connect({ host: 'hub.example', port: 8883, trustedCAs: [ca.certDer] }, silent);
    const connection = scripted.last;
    connection.open();
    await bridge.idle();
    const { bytes } = payloadView(2000);
    expect(xsTransport.write(bytes)).toBe(true);
    expect(connection.written.length).toBe(1);
    const received = connection.written[0];
    expect([...received]).toEqual([...bytes]);
    expect(received.buffer).toBe(requests[requests.length - 1].buffer);
    expect(received.byteOffset).toBeGreaterThan(0);
  });
});

describe('virtual scripted transport: the written log holds the caller\'s arrays themselves', () => {
  test('written[i] is the very array given to write, in order', () => {
    const seen: Uint8Array[] = [];
    const factory = new ScriptedTransportFactory({ onWrite: (_connection, bytes) => void seen.push(bytes) });
    const transport = factory.connect({ host: 'hub.example', port: 8883, trustedCAs: [] }, silent);
    const first = payloadView(10).bytes;
    const second = payloadView(3).bytes;
    transport.write(first);
    transport.write(second);
    expect(factory.last.written[0]).toBe(first);
    expect(factory.last.written[1]).toBe(second);
    expect(seen[0]).toBe(first);
    expect(factory.last.writtenHex()).toEqual([Buffer.from(first).toString('hex'), Buffer.from(second).toString('hex')]);
  });
});
