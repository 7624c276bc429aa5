// Acceptance for the MQTT layer: the real MqttSession on the Node host (node:tls transport, Node timers, Node logger)
// against a real broker (aedes) over TLS on 127.0.0.1. The server presents leaf + intermediate, the client trusts only
// the root, all made at test time. Bytes are watched on both ends: the client's transport is wrapped to record what
// the session wrote and received, and the server socket's reads are tapped to see what reached the broker.
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import { createCa, createIntermediateCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createNodeLogger, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node/index';
import type { TransportFactory } from '../../src/ports';
import { MqttSession } from '../../src/mqtt/session';
import { MqttConnectError, MqttSessionError } from '../../src/mqtt/session-errors';
import type { IncomingMessage, MqttConnectOptions, SessionCloseReason } from '../../src/mqtt/session-types';
import { RawMqttClient } from '../helpers/raw-mqtt';
import { track } from '../helpers/track-promise';

const CLIENT_ID = 'it-session';

let root: KeyAndCert;
let serverChainPem: string;
let serverKeyPem: string;
let stranger: KeyAndCert;

beforeAll(() => {
  root = createCa('Session IT Root');
  const intermediate = createIntermediateCa(root, 'Session IT Intermediate');
  const leaf = issueServerCertificate(intermediate);
  serverChainPem = leaf.certPem + intermediate.certPem;
  serverKeyPem = leaf.keyPem;
  stranger = createCa('Session IT Stranger Root');
});

// ---- helpers ---------------------------------------------------------------------------------------------------

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const asciiHex = (text: string): string => Buffer.from(text, 'ascii').toString('hex');
const joinedHex = (chunks: Uint8Array[]): string => chunks.map(hex).join('');
/** Splits a byte stream into packets, as hex; enough for this file's packets (remaining length below 128). */
function packetHexes(chunks: Uint8Array[]): string[] {
  const all = Buffer.concat(chunks);
  const packets: string[] = [];
  for (let at = 0; at < all.length; at += 2 + all[at + 1]) packets.push(all.subarray(at, at + 2 + all[at + 1]).toString('hex'));
  return packets;
}
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` holds; fails with `what` after `timeoutMs`. */
async function until(what: string, probe: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TestBroker {
  broker: Aedes;
  port: number;
  /** TCP connections accepted (every attempt, whether or not TLS succeeded). */
  readonly tcpConnections: number;
  /** Server-side TLS sockets whose handshake completed, in order. */
  tlsSockets: TLSSocket[];
  /** Bytes the broker read from each TLS socket, in order (same index as tlsSockets). */
  reads: Buffer[][];
  /** When each PINGREQ reached the broker (performance.now()). */
  pings: number[];
  /** Ids of clients the broker saw go away, in order. */
  disconnects: string[];
  /** Ids of clients whose PUBACK for a QoS 1 delivery the broker handled, in order. */
  acked: string[];
  /** PUBLISHes the broker got from clients: topic, payload text, qos, dup, client id. */
  published: { topic: string; payload: string; qos: number; dup: boolean; client: string }[];
}

/**
 * A TLS server handing each connection to aedes. Publishes to a topic in `hold` are never authorized while
 * `hold.active` is true, so their PUBACK never comes (a QoS 1 publish stays in flight on purpose).
 */
async function startBroker(hold: { topic?: string; active: boolean } = { active: false }): Promise<TestBroker> {
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, callback) => {
      if (hold.active && packet.topic === hold.topic) return; // held: no callback, no PUBACK
      callback(null);
    },
  });
  let tcpConnections = 0;
  const rawSockets = new Set<Socket>();
  const result: TestBroker = {
    broker,
    port: 0,
    get tcpConnections() {
      return tcpConnections;
    },
    tlsSockets: [],
    reads: [],
    pings: [],
    disconnects: [],
    acked: [],
    published: [],
  };
  broker.on('ping', () => result.pings.push(performance.now()));
  broker.on('clientDisconnect', (client) => result.disconnects.push(client.id));
  // aedes' memory persistence keeps no copy of a clean session's deliveries, so the event's packet may be undefined.
  broker.on('ack', (_packet, client) => result.acked.push(client.id));
  broker.on('publish', (packet, client) => {
    if (client) {
      result.published.push({ topic: packet.topic, payload: text(packet.payload as Buffer), qos: packet.qos, dup: packet.dup, client: client.id });
    }
  });

  const server = createTlsServer({ key: serverKeyPem, cert: serverChainPem }, (socket: TLSSocket) => {
    const sink: Buffer[] = [];
    result.tlsSockets.push(socket);
    result.reads.push(sink);
    // aedes pulls with read() on 'readable'; a 'data' listener would steal its bytes, so the tap wraps read().
    const read = socket.read.bind(socket);
    socket.read = ((size?: number) => {
      const chunk = read(size) as Buffer | null;
      if (chunk) sink.push(Buffer.from(chunk));
      return chunk;
    }) as typeof socket.read;
    broker.handle(socket);
  });
  server.on('connection', (socket: Socket) => {
    tcpConnections++;
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });
  server.on('tlsClientError', () => {}); // the wrong-CA case ends handshakes on purpose
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  result.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of rawSockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return result;
}

interface Wire {
  /** TransportFactory.connect calls: each is one connection attempt by the session. */
  attempts: number;
  sent: Uint8Array[];
  received: Uint8Array[];
}

/** The Node TLS transport with every byte in and out recorded. */
function recordingTransport(wire: Wire): TransportFactory {
  const inner = createNodeTlsTransportFactory();
  return {
    connect(options, events) {
      wire.attempts++;
      const transport = inner.connect(options, {
        onConnect: () => events.onConnect(),
        onData: (chunk) => {
          wire.received.push(chunk.slice());
          events.onData(chunk);
        },
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose: (reason) => events.onClose(reason),
      });
      return {
        write: (bytes) => {
          wire.sent.push(bytes.slice());
          return transport.write(bytes);
        },
        close: () => transport.close(),
      };
    },
  };
}

interface Client {
  session: MqttSession;
  wire: Wire;
  /** "state:connecting", "connected:false", "close:peer-closed", "error:handler-failed" in order. */
  events: string[];
  closes: SessionCloseReason[];
  messages: IncomingMessage[];
  logs: string[];
  options(overrides?: Partial<MqttConnectOptions>): MqttConnectOptions;
}

function newClient(port: number, trustedCA: Uint8Array = root.certDer): Client {
  const wire: Wire = { attempts: 0, sent: [], received: [] };
  const logs: string[] = [];
  const session = new MqttSession({
    transport: recordingTransport(wire),
    timers: createNodeTimers(),
    logger: createNodeLogger({ minLevel: 'debug', write: (line) => logs.push(line) }),
  });
  const client: Client = {
    session,
    wire,
    events: [],
    closes: [],
    messages: [],
    logs,
    options: (overrides = {}) => ({
      tls: { host: '127.0.0.1', port, serverName: 'localhost', trustedCAs: [trustedCA], connectTimeoutMs: 5000 },
      clientId: CLIENT_ID,
      cleanSession: true,
      keepAlive: 60,
      ...overrides,
    }),
  };
  session.on('state', ({ state }) => client.events.push(`state:${state}`));
  session.on('connected', ({ sessionPresent }) => client.events.push(`connected:${sessionPresent}`));
  session.on('close', ({ reason }) => {
    client.events.push(`close:${reason.code}`);
    client.closes.push(reason);
  });
  session.on('error', (error) => client.events.push(`error:${error.code}`));
  session.on('message', (message) => client.messages.push(message));
  cleanups.push(() => session.disconnect());
  return client;
}

/** CONNECT as the session encodes it for CLIENT_ID with no credentials. */
function connectHex(keepAlive: number, cleanSession: boolean): string {
  const flags = cleanSession ? '02' : '00';
  const keep = keepAlive.toString(16).padStart(4, '0');
  // Remaining length 0x16: protocol name and level (7), flags (1), keepalive (2), client id (2 + 10).
  return `10160004${asciiHex('MQTT')}04${flags}${keep}000a${asciiHex(CLIENT_ID)}`;
}
const CONNACK_ACCEPTED = '20020000';

// ---- behaviours --------------------------------------------------------------------------------------------------

describe('connect and subscribe over TLS (leaf + intermediate, trusted root only)', () => {
  test('CONNACK without a session, then two filters granted QoS 0 and 1, with the exact bytes on both ends', async () => {
    const b = await startBroker();
    const c = newClient(b.port);
    const subscribed: string[] = [];
    b.broker.on('subscribe', (subs, client) => subscribed.push(...subs.map((s) => `${client.id}:${s.topic}@${s.qos}`)));

    await expect(c.session.connect(c.options())).resolves.toEqual({ sessionPresent: false });
    expect(c.events).toEqual(['state:connecting', 'state:awaiting-connack', 'state:connected', 'connected:false']);
    expect(c.session.state).toBe('connected');
    expect(c.logs).toContain('[info] mqtt: connected (session present: false)');

    const granted = await c.session.subscribe([
      { topic: 'it/qos0', qos: 0 },
      { topic: 'it/qos1/#', qos: 1 },
    ]);
    expect(granted).toEqual([0, 1]);
    expect(subscribed).toEqual([`${CLIENT_ID}:it/qos0@0`, `${CLIENT_ID}:it/qos1/#@1`]);

    // Packet id 1; each filter is a length-prefixed topic and its requested QoS.
    const subscribeHex = `821800010007${asciiHex('it/qos0')}000009${asciiHex('it/qos1/#')}01`;
    expect(c.wire.sent.map(hex)).toEqual([connectHex(60, true), subscribeHex]);
    // What left the session is exactly what the broker read out of the TLS socket.
    expect(joinedHex(b.reads[0])).toBe(connectHex(60, true) + subscribeHex);
    expect(joinedHex(c.wire.received)).toBe(CONNACK_ACCEPTED + '9004000100' + '01');
    expect(b.tcpConnections).toBe(1);
    expect(b.tlsSockets).toHaveLength(1);
  });
});

describe('publish and receive at QoS 0 and QoS 1', () => {
  async function connectedAndSubscribed(): Promise<{ b: TestBroker; c: Client }> {
    const b = await startBroker();
    const c = newClient(b.port);
    await c.session.connect(c.options());
    await c.session.subscribe([
      { topic: 'it/qos0', qos: 0 },
      { topic: 'it/qos1/#', qos: 1 },
    ]);
    c.wire.sent.length = 0;
    c.wire.received.length = 0;
    c.events.length = 0;
    return { b, c };
  }

  test('its own publishes come back through its subscriptions; QoS 1 is PUBACKed both ways', async () => {
    const { b, c } = await connectedAndSubscribed();

    await c.session.publish('it/qos0', Buffer.from('zero'), { qos: 0 });
    await until('the QoS 0 message', () => c.messages.length === 1);
    expect(c.messages[0]).toEqual({ topic: 'it/qos0', payload: new Uint8Array(Buffer.from('zero')), qos: 0, retain: false, dup: false });

    await c.session.publish('it/qos1/self', Buffer.from('one'), { qos: 1 }); // resolves on the broker's PUBACK
    await until('the QoS 1 message', () => c.messages.length === 2);
    const echoed = c.messages[1];
    expect(echoed).toMatchObject({ topic: 'it/qos1/self', qos: 1, retain: false, dup: false });
    expect(text(echoed.payload)).toBe('one');
    await until('the session PUBACK at the broker', () => b.acked.length === 1);
    expect(b.acked).toEqual([CLIENT_ID]);
    expect(b.published).toEqual([
      { topic: 'it/qos0', payload: 'zero', qos: 0, dup: false, client: CLIENT_ID },
      { topic: 'it/qos1/self', payload: 'one', qos: 1, dup: false, client: CLIENT_ID },
    ]);

    const brokerId = (echoed.packetId as number).toString(16).padStart(4, '0');
    // Subscribe took packet id 1, so the first QoS 1 publish carries 2.
    expect(c.wire.sent.map(hex)).toEqual([
      `300d0007${asciiHex('it/qos0')}${asciiHex('zero')}`,
      `3213000c${asciiHex('it/qos1/self')}0002${asciiHex('one')}`,
      `4002${brokerId}`,
    ]);
    // Whether the broker PUBACKs before or after forwarding the copy is its business: compare as a set.
    expect(packetHexes(c.wire.received).sort()).toEqual(
      [`300d0007${asciiHex('it/qos0')}${asciiHex('zero')}`, '40020002', `3213000c${asciiHex('it/qos1/self')}${brokerId}${asciiHex('one')}`].sort(),
    );
    expect(joinedHex(b.reads[0])).toContain(`4002${brokerId}`);
    expect(c.session.inflightCount).toBe(0);
    expect(c.events).toEqual([]);
  });

  test('messages from a second MQTT client (QoS 1) and from the broker itself (QoS 0) arrive', async () => {
    const { b, c } = await connectedAndSubscribed();
    const other = await RawMqttClient.connect({ port: b.port, ca: root.certPem });
    cleanups.push(() => other.close());
    expect((await other.mqttConnect({ clientId: 'it-other', clean: true })).returnCode).toBe(0);
    const messageId = other.publish('it/qos1/other', 'from another client', 1);
    expect(await other.next('puback')).toMatchObject({ cmd: 'puback', messageId });

    await new Promise<void>((resolve, reject) =>
      b.broker.publish({ cmd: 'publish', topic: 'it/qos0', payload: Buffer.from('from the broker'), qos: 0, retain: false, dup: false }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await until('both messages', () => c.messages.length === 2);
    expect(c.messages.map((m) => ({ topic: m.topic, payload: text(m.payload), qos: m.qos, dup: m.dup }))).toEqual([
      { topic: 'it/qos1/other', payload: 'from another client', qos: 1, dup: false },
      { topic: 'it/qos0', payload: 'from the broker', qos: 0, dup: false },
    ]);
    await until('the session PUBACK at the broker', () => b.acked.length === 1);
    expect(b.acked).toEqual([CLIENT_ID]);
    expect(c.wire.sent.map(hex)).toEqual([`4002${(c.messages[0].packetId as number).toString(16).padStart(4, '0')}`]);
  });
});

describe('keepalive on the wire', () => {
  test('with keepAlive 1 s and no traffic a PINGREQ reaches the broker every period and PINGRESP comes back', async () => {
    const b = await startBroker();
    const c = newClient(b.port);
    const connectedAt = performance.now();
    await c.session.connect(c.options({ keepAlive: 1 }));
    await until('three PINGREQs at the broker', () => b.pings.length === 3, 5000);
    await until('three PINGRESPs at the session', () => joinedHex(c.wire.received).length === (CONNACK_ACCEPTED + 'd000'.repeat(3)).length);

    expect(joinedHex(b.reads[0])).toBe(connectHex(1, true) + 'c000'.repeat(3));
    expect(c.wire.sent.map(hex)).toEqual([connectHex(1, true), 'c000', 'c000', 'c000']);
    expect(joinedHex(c.wire.received)).toBe(CONNACK_ACCEPTED + 'd000'.repeat(3));
    // One ping per period, never early (a late timer on a busy machine is tolerated).
    const gaps = [b.pings[0] - connectedAt, b.pings[1] - b.pings[0], b.pings[2] - b.pings[1]];
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);
    expect(b.pings[2] - connectedAt).toBeLessThan(4500);

    // Still the same live connection after several periods.
    expect(c.session.state).toBe('connected');
    expect(c.events).toEqual(['state:connecting', 'state:awaiting-connack', 'state:connected', 'connected:false']);
    expect(b.broker.connectedClients).toBe(1);
    expect(b.disconnects).toEqual([]);
    expect(b.tcpConnections).toBe(1);
  });
});

describe('the broker goes away', () => {
  test('server socket destroyed: close with peer-closed, the QoS 1 publish is kept (cleanSession false), no reconnect', async () => {
    const hold = { topic: 'it/held', active: true };
    const b = await startBroker(hold);
    const c = newClient(b.port);
    await c.session.connect(c.options({ cleanSession: false }));
    const pending = track(c.session.publish('it/held', Buffer.from('keep me'), { qos: 1 }));
    await until('the publish at the broker', () => joinedHex(b.reads[0]).includes(asciiHex('keep me')));
    expect(c.session.inflightCount).toBe(1);
    c.events.length = 0;

    b.tlsSockets[0].destroy();
    await until('the close event', () => c.closes.length === 1);
    expect(c.closes[0]).toEqual({ code: 'peer-closed', message: `connection closed by the peer: 127.0.0.1:${b.port} closed the connection` });
    expect(c.events).toEqual(['state:closed', 'close:peer-closed']);

    await sleep(800);
    // No reconnect: the session waits for its owner. The unacknowledged publish is kept for the next connection.
    expect(c.wire.attempts).toBe(1);
    expect(b.tcpConnections).toBe(1);
    expect(c.session.state).toBe('closed');
    expect(c.events).toEqual(['state:closed', 'close:peer-closed']);
    expect(pending.status).toBe('pending');
    expect(c.session.inflightCount).toBe(1);

    // The owner reconnects: the kept publish goes out again first, DUP set, same packet id, and now completes.
    hold.active = false;
    c.wire.sent.length = 0;
    await c.session.connect(c.options({ cleanSession: false }));
    await until('the resent publish to be acknowledged', () => pending.status !== 'pending');
    expect(pending.status).toBe('resolved');
    expect(c.wire.sent.map(hex)).toEqual([connectHex(60, false), `3a120007${asciiHex('it/held')}0001${asciiHex('keep me')}`]);
    expect(b.published).toEqual([{ topic: 'it/held', payload: 'keep me', qos: 1, dup: true, client: CLIENT_ID }]);
    expect(c.wire.attempts).toBe(2);
    expect(b.tcpConnections).toBe(2);
  });

  test('broker closed: close with peer-closed, the QoS 1 publish rejected (cleanSession true), no reconnect', async () => {
    const b = await startBroker({ topic: 'it/held', active: true });
    const c = newClient(b.port);
    await c.session.connect(c.options({ cleanSession: true }));
    const publishing = c.session.publish('it/held', Buffer.from('lost'), { qos: 1 });
    const pending = track(publishing);
    await until('the publish at the broker', () => joinedHex(b.reads[0]).includes(asciiHex('lost')));

    await new Promise<void>((resolve) => b.broker.close(() => resolve()));
    await until('the close event', () => c.closes.length === 1);
    const reason = c.closes[0];
    expect(reason).toEqual({ code: 'peer-closed', message: `connection closed by the peer: 127.0.0.1:${b.port} closed the connection` });
    await expect(publishing).rejects.toMatchObject({ name: 'MqttSessionError', code: 'connection-closed', closeReason: reason });
    expect((pending.error as MqttSessionError).message).toBe(`connection closed: ${reason.message}`);
    expect(c.session.inflightCount).toBe(0);

    await sleep(800);
    expect(c.wire.attempts).toBe(1);
    expect(b.tcpConnections).toBe(1);
    expect(c.session.state).toBe('closed');
    expect(c.closes).toHaveLength(1);
  });
});

describe('a server the client does not trust', () => {
  test('connect() rejects with MqttConnectError carrying tls-verify; exactly one TLS attempt reaches the server', async () => {
    const b = await startBroker();
    const c = newClient(b.port, stranger.certDer);
    const attempt = c.session.connect(c.options());
    await expect(attempt).rejects.toBeInstanceOf(MqttConnectError);
    const error = (await attempt.catch((e: unknown) => e)) as MqttConnectError;
    expect(error.reason).toEqual({
      code: 'transport-error',
      message: 'transport failed (tls-verify): server certificate not trusted: unable to get local issuer certificate',
      transportError: { code: 'tls-verify', message: 'server certificate not trusted: unable to get local issuer certificate' },
    });
    expect(error.returnCode).toBeUndefined();
    expect(c.events).toEqual(['state:connecting', 'state:closed', 'close:transport-error']);

    await sleep(500);
    expect(c.wire.attempts).toBe(1);
    expect(b.tcpConnections).toBe(1);
    expect(c.wire.sent).toEqual([]); // not a byte of MQTT to an untrusted server
    expect(b.broker.connectedClients).toBe(0);
  });
});

describe('orderly disconnect', () => {
  test('DISCONNECT reaches the broker, then the socket closes on both ends', async () => {
    const b = await startBroker();
    const c = newClient(b.port);
    await c.session.connect(c.options());
    const serverClosed = new Promise<void>((resolve) => b.tlsSockets[0].once('close', () => resolve()));
    c.events.length = 0;

    await c.session.disconnect();
    expect(c.closes).toEqual([{ code: 'local', message: 'disconnected by the client' }]);
    expect(c.events).toEqual(['state:disconnecting', 'state:closed', 'close:local']);
    expect(c.wire.sent.map(hex)).toEqual([connectHex(60, true), 'e000']);

    await serverClosed;
    await until('the broker to drop the client', () => b.disconnects.length === 1);
    expect(b.disconnects).toEqual([CLIENT_ID]);
    expect(joinedHex(b.reads[0])).toBe(connectHex(60, true) + 'e000');
    expect(b.broker.connectedClients).toBe(0);
    expect(c.session.state).toBe('closed');
  });
});
