// hosts/moddable/transport.ts on Node: jest maps the Moddable modules it imports (securesocket, timer, x509) to the
// fakes in tests/moddable/fakes, which keep the SDK's callback messages, read/write rules and TLS session
// internals. Each test plays the network (TCP up, handshake flights, records, room in the send buffer, resets)
// and checks the exact events the transport gives src/ (TransportEvents in src/ports.ts) and the exact bytes
// that reach the wire. Needs no $MODDABLE, so it runs in every `npm test`.
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createModdableTransportFactory, type ModdableTransportSettings } from '../../hosts/moddable/transport';
import type { LogLevel, TlsConnectOptions, Transport, TransportCloseReason, TransportError, TransportEvents } from '../../src/ports';
import { fakeNetwork, RECORD_OVERHEAD, type FakePeer } from './fakes/fake-network';
import { runLoop } from './fakes/timer';

const DAY_MS = 24 * 3600 * 1000;
const TARGET = 'localhost:8883';

type Seen =
  | 'onConnect'
  | 'onWritable'
  | { onData: number[] }
  | { onError: TransportError }
  | { onClose: TransportCloseReason };

let ca: KeyAndCert;
let otherCa: KeyAndCert;
let expiredCa: KeyAndCert;
let leaf: KeyAndCert;
let strangerLeaf: KeyAndCert;
let wrongNameLeaf: KeyAndCert;
let expiredLeaf: KeyAndCert;

beforeAll(() => {
  ca = createCa('Moddable Transport Test Root');
  otherCa = createCa('Someone Else Root');
  expiredCa = createCa('Expired Root', { notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
  leaf = issueServerCertificate(ca);
  strangerLeaf = issueServerCertificate(otherCa);
  wrongNameLeaf = issueServerCertificate(ca, { commonName: 'other.example', dnsNames: ['other.example'], ipAddresses: [] });
  expiredLeaf = issueServerCertificate(ca, { notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
});

beforeEach(() => {
  fakeNetwork.reset();
  runLoop.reset();
});

function bytes(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

interface Connection {
  transport: Transport;
  peer: FakePeer;
  seen: Seen[];
  logged: string[];
}

/**
 * Lets the transport's promise jobs run. It opens the socket, writes and closes from fresh jobs, so that on XS
 * that work starts at the bottom of the stack instead of at the depth of the caller.
 */
async function jobs(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

async function open(overrides: Partial<TlsConnectOptions> = {}, settings: ModdableTransportSettings = {}): Promise<Connection> {
  const seen: Seen[] = [];
  const logged: string[] = [];
  const events: TransportEvents = {
    onConnect: () => void seen.push('onConnect'),
    onData: (chunk) => void seen.push({ onData: [...chunk] }),
    onWritable: () => void seen.push('onWritable'),
    onError: (error) => void seen.push({ onError: error }),
    onClose: (reason) => void seen.push({ onClose: reason }),
  };
  const factory = createModdableTransportFactory({
    defaultConnectTimeoutMs: 5000,
    logger: { log: (level: LogLevel, message: string) => void logged.push(`${level}: ${message}`) },
    ...settings,
  });
  const transport = factory.connect({ host: 'localhost', port: 8883, trustedCAs: [ca.certDer], ...overrides }, events);
  await jobs();
  return { transport, peer: fakeNetwork.last, seen, logged };
}

/** TCP up and a full handshake with the trusted leaf. */
async function secured(overrides: Partial<TlsConnectOptions> = {}, settings: ModdableTransportSettings = {}): Promise<Connection> {
  const connection = await open(overrides, settings);
  connection.peer.accept();
  connection.peer.handshake([leaf.certDer]);
  expect(connection.seen).toEqual(['onConnect']);
  connection.seen.length = 0;
  return connection;
}

/** TCP room that lets SecureSocket take exactly `plaintext` bytes (it keeps 128 back for TLS overhead). */
const roomFor = (plaintext: number): number => plaintext + 128;

function failedWith(code: TransportError['code'], message: string): Seen[] {
  return [{ onError: { code, message } }, { onClose: { by: 'error', code, message } }];
}

describe('connect', () => {
  test('opens SecureSocket with TLS 1.2, the server name and every trusted CA, and says nothing until the handshake ends', async () => {
    const { peer, seen } = await open({ serverName: 'localhost', trustedCAs: [otherCa.certDer, ca.certDer] });
    expect(peer.dictionary).toEqual({ host: 'localhost', port: 8883, secure: { protocolVersion: 0x303, serverName: 'localhost' } });
    peer.accept();
    expect(peer.handshakeSent()).toEqual(['client-hello']);
    peer.serverHello([leaf.certDer]);
    expect(peer.handshakeSent()).toEqual(['client-hello', 'client-finished']);
    expect(seen).toEqual([]);
    peer.finishHandshake();
    expect(seen).toEqual(['onConnect']);
  });

  test('the socket is opened on a fresh job, not on the stack of the connect() call', async () => {
    const transport = createModdableTransportFactory().connect({ host: 'localhost', port: 8883, trustedCAs: [ca.certDer] }, {
      onConnect: () => undefined,
      onData: () => undefined,
      onWritable: () => undefined,
      onError: () => undefined,
      onClose: () => undefined,
    });
    expect(fakeNetwork.peers).toEqual([]);
    await jobs();
    expect(fakeNetwork.peers.length).toBe(1);
    transport.close();
  });

  test('closed before its job ran, the transport opens no socket at all', async () => {
    const seen: string[] = [];
    const transport = createModdableTransportFactory().connect({ host: 'localhost', port: 8883, trustedCAs: [ca.certDer] }, {
      onConnect: () => seen.push('connect'),
      onData: () => undefined,
      onWritable: () => undefined,
      onError: (error) => seen.push(`error ${error.code}`),
      onClose: (reason) => seen.push(`close ${reason.by}`),
    });
    transport.close();
    await jobs();
    runLoop.advance(60_000);
    expect(fakeNetwork.peers).toEqual([]);
    expect(seen).toEqual(['close local']);
    expect(runLoop.pending).toBe(0);
  });

  test('a verified handshake stops the connect timer', async () => {
    const { seen } = await secured();
    expect(runLoop.pending).toBe(0);
    runLoop.advance(60_000);
    expect(seen).toEqual([]);
  });

  test('the client certificate and key go to the TLS session', async () => {
    const certificate = Uint8Array.of(0x30, 1);
    const key = Uint8Array.of(0x30, 2);
    const { peer } = await open({ clientCertificates: [certificate], clientKey: key });
    expect(peer.dictionary.secure).toEqual({ protocolVersion: 0x303, serverName: 'localhost', clientCertificates: [certificate], clientKey: key });
  });
});

describe('readable', () => {
  test('each record arrives as onData with its exact bytes', async () => {
    const { peer, seen } = await secured();
    peer.send(Uint8Array.of(0x20, 0x02, 0x00, 0x00));
    peer.send(Uint8Array.of(0x30, 0x00));
    expect(seen).toEqual([{ onData: [0x20, 0x02, 0x00, 0x00] }, { onData: [0x30, 0x00] }]);
  });

  test('a record larger than SecureSocket hands out at once arrives in order, 1,024 bytes at a time', async () => {
    const { peer, seen } = await secured();
    const record = bytes(2500);
    peer.send(record);
    expect(seen.map((s) => (typeof s === 'object' && 'onData' in s ? s.onData.length : s))).toEqual([1024, 1024, 452]);
    expect(seen.flatMap((s) => (typeof s === 'object' && 'onData' in s ? s.onData : []))).toEqual([...record]);
  });
});

describe('write before the handshake completes', () => {
  test('is queued (write says false) and goes out the moment the handshake completes, then onWritable', async () => {
    const { transport, peer, seen } = await open();
    peer.accept();
    expect(transport.write(Uint8Array.of(0x10, 0x0c, 0x00, 0x04))).toBe(false);
    expect(transport.write(Uint8Array.of(0x4d, 0x51, 0x54, 0x54))).toBe(false);
    // The write's own flush job runs now, while the handshake is still going on, and sends nothing.
    await jobs();
    peer.serverHello([leaf.certDer]);
    expect(peer.received()).toEqual([]);
    peer.finishHandshake();
    await jobs();
    // No writable message from the socket in between: the handshake alone must flush the queue.
    expect(peer.received()).toEqual([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]);
    expect(seen).toEqual(['onConnect', 'onWritable']);
  });
});

describe('writable', () => {
  test('a write that fits goes out on the next job as one record and write says true', async () => {
    const { transport, peer, seen } = await secured();
    expect(transport.write(Uint8Array.of(0xc0, 0x00))).toBe(true);
    expect(peer.received()).toEqual([]);
    await jobs();
    expect(peer.applicationRecords().map((r) => [...r])).toEqual([[0xc0, 0x00]]);
    expect(seen).toEqual([]);
  });

  test('what does not fit waits for writable messages; onWritable once the queue is empty', async () => {
    // A queue over the turn's budget makes write say false, and the caller waits for onWritable.
    const { transport, peer, seen } = await secured({}, { writeBudgetBytes: 20 });
    peer.tcp.room = roomFor(10);
    const data = bytes(25);
    expect(transport.write(data)).toBe(false);
    await jobs();
    expect(peer.received()).toEqual([...data.subarray(0, 10)]);
    peer.drain(roomFor(10));
    expect(peer.received()).toEqual([...data.subarray(0, 20)]);
    expect(seen).toEqual([]);
    peer.drain();
    expect(peer.received()).toEqual([...data]);
    expect(seen).toEqual(['onWritable']);
    expect(transport.write(Uint8Array.of(1))).toBe(true);
  });

  test('a writable message with no more than 128 bytes of room is not passed on, so nothing is sent', async () => {
    const { transport, peer } = await secured();
    peer.tcp.room = 0;
    // Within the turn's budget: write says true although the socket has no room yet.
    expect(transport.write(bytes(4))).toBe(true);
    await jobs();
    peer.drain(100);
    expect(peer.received()).toEqual([]);
    peer.drain();
    expect(peer.received()).toEqual([...bytes(4)]);
  });

  test('queued writes coalesce into one record as far as the room allows', async () => {
    const { transport, peer } = await secured();
    peer.tcp.room = 0;
    transport.write(Uint8Array.of(1, 2));
    transport.write(Uint8Array.of(3));
    transport.write(Uint8Array.of(4, 5, 6));
    peer.drain(roomFor(4));
    expect(peer.applicationRecords().map((r) => [...r])).toEqual([[1, 2, 3, 4]]);
    peer.drain();
    expect(peer.applicationRecords().map((r) => [...r])).toEqual([[1, 2, 3, 4], [5, 6]]);
  });
});

describe('write budget', () => {
  test('at most writeBudgetBytes go out per turn, in records of at most 16,384 bytes; the rest on later writable messages', async () => {
    fakeNetwork.capacity = 1_000_000;
    const { transport, peer, seen } = await secured({}, { writeBudgetBytes: 20_000 });
    const data = bytes(50_000);
    expect(transport.write(data)).toBe(false);
    await jobs();
    expect(peer.applicationRecords().map((r) => r.length)).toEqual([16_384, 3_616]);
    peer.drain();
    expect(peer.applicationRecords().map((r) => r.length)).toEqual([16_384, 3_616, 16_384, 3_616]);
    expect(seen).toEqual([]);
    peer.drain();
    expect(peer.applicationRecords().map((r) => r.length)).toEqual([16_384, 3_616, 16_384, 3_616, 10_000]);
    expect(peer.received()).toEqual([...data]);
    expect(seen).toEqual(['onWritable']);
  });

  test('the default budget is 8,192 bytes a turn', async () => {
    fakeNetwork.capacity = 1_000_000;
    const { transport, peer } = await secured();
    expect(transport.write(bytes(20_000))).toBe(false);
    await jobs();
    expect(peer.received().length).toBe(8192);
  });

  test('a turn stops when SecureSocket reports no room left, without a write being refused', async () => {
    const { transport, peer, seen } = await secured();
    peer.tcp.room = roomFor(1000);
    // Within the turn's budget, so write says true; the socket's room is what ends the turn.
    expect(transport.write(bytes(3000))).toBe(true);
    await jobs();
    expect(peer.applicationRecords().map((r) => r.length)).toEqual([1000]);
    expect(peer.tcp.room).toBe(128 - RECORD_OVERHEAD);
    expect(seen).toEqual([]);
  });
});

describe('close', () => {
  test('local close: queued bytes that fit go out, the socket closes, onClose by local on the next turn', async () => {
    const { transport, peer, seen } = await secured();
    peer.tcp.room = 0;
    expect(transport.write(Uint8Array.of(0x30, 0x01))).toBe(true);
    expect(transport.write(Uint8Array.of(0xe0, 0x00))).toBe(true);
    await jobs();
    expect(peer.received()).toEqual([]);
    peer.tcp.room = roomFor(100); // room again, but no writable message yet
    transport.close();
    // close() itself does nothing on the caller's stack: the last bytes and the close follow on a fresh job.
    expect(peer.closedByClient).toBe(false);
    await jobs();
    expect(peer.received()).toEqual([0x30, 0x01, 0xe0, 0x00]);
    expect(seen).toEqual([]);
    runLoop.turn();
    expect(seen).toEqual([{ onClose: { by: 'local', message: 'closed by the application' } }]);
    // The plain socket under TLS closes one simulator service tick (50 ms) later, so messages still queued for it
    // land on a live socket instead of freed memory.
    runLoop.advance(49);
    expect(peer.closedByClient).toBe(false);
    runLoop.advance(1);
    expect(peer.closedByClient).toBe(true);
  });

  test('while the plain socket lingers, a message still queued for it is swallowed; a disconnect closes it at once', async () => {
    const { transport, peer, seen } = await secured();
    transport.close();
    await jobs();
    runLoop.turn();
    peer.send(Uint8Array.of(0x30, 0x00)); // queued by the simulator before the close
    expect(peer.closedByClient).toBe(false);
    peer.disconnect();
    expect(peer.closedByClient).toBe(true);
    expect(seen).toEqual([{ onClose: { by: 'local', message: 'closed by the application' } }]);
    runLoop.advance(50);
    expect(runLoop.pending).toBe(0);
  });

  test('close twice is one close; writes after close are refused and sent nowhere', async () => {
    const { transport, peer, seen } = await secured();
    transport.close();
    transport.close();
    expect(transport.write(Uint8Array.of(1))).toBe(false);
    await jobs();
    runLoop.advance(10_000);
    expect(seen).toEqual([{ onClose: { by: 'local', message: 'closed by the application' } }]);
    expect(peer.received()).toEqual([]);
  });

  test('close before the handshake: nothing is sent, no timer is left', async () => {
    const { transport, peer, seen } = await open();
    peer.accept();
    transport.write(Uint8Array.of(1));
    transport.close();
    await jobs();
    runLoop.advance(10_000);
    expect(peer.received()).toEqual([]);
    expect(seen).toEqual([{ onClose: { by: 'local', message: 'closed by the application' } }]);
    expect(runLoop.pending).toBe(0);
  });

  test('the peer closing after the handshake is an orderly close, not an error', async () => {
    const { peer, seen } = await secured();
    peer.disconnect();
    expect(seen).toEqual([{ onClose: { by: 'peer', message: `${TARGET} closed the connection` } }]);
    expect(peer.closedByClient).toBe(true);
  });

  test('a handler that throws closes the connection with an error instead of reaching SecureSocket', async () => {
    const seen: string[] = [];
    const transport = createModdableTransportFactory().connect(
      { host: 'localhost', port: 8883, trustedCAs: [ca.certDer] },
      {
        onConnect: () => seen.push('connect'),
        onData: () => {
          throw new Error('bad packet');
        },
        onWritable: () => seen.push('writable'),
        onError: (error) => seen.push(`error ${error.code}: ${error.message}`),
        onClose: (reason) => seen.push(`close ${reason.by}`),
      },
    );
    await jobs();
    const peer = fakeNetwork.last;
    peer.accept();
    peer.handshake([leaf.certDer]);
    peer.send(Uint8Array.of(1));
    expect(seen).toEqual(['connect', 'error other: onData handler threw: bad packet', 'close error']);
    expect(transport.write(Uint8Array.of(1))).toBe(false);
    runLoop.advance(50);
    expect(peer.closedByClient).toBe(true);
  });
});

describe('failures: onError then onClose, once, with the socket closed and no timer left', () => {
  const settle = async (connection: Connection): Promise<void> => {
    await jobs();
    runLoop.advance(60_000);
    expect(connection.peer.closedByClient).toBe(true);
    expect(runLoop.pending).toBe(0);
  };

  test('DNS: the look-up fails before TCP (lwIP reports an error) -> refused, naming both causes', async () => {
    const connection = await open({ host: 'no-such-hub.example', serverName: 'localhost' });
    connection.peer.fail();
    await settle(connection);
    expect(connection.seen).toEqual(
      failedWith('refused', 'could not connect to no-such-hub.example:8883 (name did not resolve, or connection refused)'),
    );
  });

  test('refused: the simulator says connected and the first handshake write fails -> refused', async () => {
    const connection = await open();
    connection.peer.acceptThenRefuse();
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('refused', `connection to ${TARGET} failed before the TLS handshake: write failed`));
  });

  test('timeout with nothing answering', async () => {
    const connection = await open({ connectTimeoutMs: 3000 });
    runLoop.advance(2999);
    expect(connection.seen).toEqual([]);
    runLoop.advance(1);
    expect(connection.seen).toEqual(
      failedWith('timeout', `connecting to ${TARGET} timed out after 3000 ms: no TCP connection (name did not resolve, or nothing answered)`),
    );
    await settle(connection);
    connection.peer.accept();
    expect(connection.seen.length).toBe(2);
  });

  test('timeout in the middle of the handshake', async () => {
    const connection = await open();
    connection.peer.accept();
    runLoop.advance(5000);
    expect(connection.seen).toEqual(failedWith('timeout', `connecting to ${TARGET} timed out after 5000 ms: TLS handshake not finished`));
    await settle(connection);
  });

  const untrusted = `server certificate of ${TARGET} not trusted (no trusted CA signs its chain, or a certificate is outside its validity dates)`;

  test('certificate signed by a CA we do not trust -> tls-verify', async () => {
    const connection = await open();
    connection.peer.accept();
    connection.peer.serverHello([strangerLeaf.certDer]);
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('tls-verify', untrusted));
  });

  test('certificate outside its validity dates -> tls-verify', async () => {
    const connection = await open();
    connection.peer.accept();
    connection.peer.serverHello([expiredLeaf.certDer]);
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('tls-verify', untrusted));
  });

  test('no trusted CA usable (the only one expired): a warning, then tls-verify on the next turn', async () => {
    const connection = await open({ trustedCAs: [expiredCa.certDer] });
    expect(connection.logged).toEqual([`warn: tls: trusted CA not used for ${TARGET}: CA 1: date validation failed`]);
    expect(connection.seen).toEqual([]);
    runLoop.turn();
    expect(connection.seen).toEqual(failedWith('tls-verify', `no usable trusted CA for ${TARGET} (CA 1: date validation failed)`));
    await settle(connection);
  });

  test('hostname: a trusted certificate that names another host -> tls-hostname', async () => {
    const connection = await open();
    connection.peer.accept();
    connection.peer.serverHello([wrongNameLeaf.certDer]);
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('tls-hostname', `server certificate of ${TARGET} does not name "localhost"`));
  });

  test('the server ends the handshake with an alert (SecureSocket calls that connected) -> tls-handshake', async () => {
    const connection = await open();
    connection.peer.accept();
    connection.peer.alert(40);
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('tls-handshake', `TLS handshake with ${TARGET} failed: TLS alert 40 (handshake_failure)`));
  });

  test('the server closes during the handshake -> tls-handshake', async () => {
    const connection = await open();
    connection.peer.accept();
    connection.peer.serverHello([leaf.certDer]);
    connection.peer.disconnect();
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('tls-handshake', `${TARGET} closed the connection during the TLS handshake`));
  });

  test('reset: a socket error once secured -> reset; bytes still queued are dropped', async () => {
    const connection = await secured();
    connection.peer.tcp.room = 0;
    expect(connection.transport.write(bytes(10))).toBe(true);
    await jobs();
    connection.peer.fail();
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('reset', `connection to ${TARGET} lost`));
    expect(connection.peer.received()).toEqual([]);
    expect(connection.transport.write(bytes(1))).toBe(false);
  });

  test('a write the socket refuses once secured -> reset naming the socket error', async () => {
    const connection = await secured();
    connection.peer.tcp.failWrites = 'write failed';
    connection.transport.write(bytes(3));
    await settle(connection);
    expect(connection.seen).toEqual(failedWith('reset', `writing to ${TARGET} failed: write failed`));
  });
});
