// Firmware-style code on the real XS engine, with its ports backed by the Node host over the bridge:
// node:crypto, real timers, a real TLS socket to a loopback echo server, and the MQTT session talking to a
// real broker (aedes) over TLS.
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { Aedes } from 'aedes';
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createNodeHost, createNodeCrypto } from '../../hosts/node/index';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';
import { XsHostBridge } from '../helpers/xs-host-bridge';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';

let ca: KeyAndCert;
let serverCert: KeyAndCert;
let script: string;
let xs: XsnapDriver;
let bridge: XsHostBridge;
const logLines: string[] = [];
const notices: [string, BridgeValue | undefined][] = [];
const waiters: (() => boolean)[] = [];

/** Resolves when XS has sent a notice matching `match`. */
function noticeFrom(name: string, match: (data: BridgeValue | undefined) => boolean): Promise<BridgeValue | undefined> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const hit = notices.find(([n, d]) => n === name && match(d));
      if (hit) resolve(hit[1]);
      return hit !== undefined;
    };
    if (!check()) waiters.push(check);
  });
}

beforeAll(async () => {
  ca = createCa('XS Bridge Test Root');
  serverCert = issueServerCertificate(ca);
  script = await bundleForXs('tests/xs/entries/bridge-host.ts');
});

beforeEach(async () => {
  notices.length = 0;
  logLines.length = 0;
  waiters.length = 0;
  const ports = createNodeHost({ logLevel: 'debug', logger: { write: (line) => logLines.push(line) } });
  let driver: XsnapDriver | undefined;
  bridge = new XsHostBridge({ command: (bytes) => driver!.command(bytes) }, {
    ports,
    onApp: (name, data) => {
      notices.push([name, data]);
      for (const waiter of waiters.splice(0)) if (!waiter()) waiters.push(waiter);
    },
  });
  driver = xs = startXsnap({ name: 'bridge-node-host', onRequest: bridge.handleRequest });
  await xs.evaluate(script);
});

afterEach(async () => {
  bridge.shutdown();
  await bridge.idle().catch(() => undefined);
  await xs.close();
});

const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of servers.splice(0)) await stop();
});

async function listen(server: TlsServer): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

describe('XS uses Node services through the bridge', () => {
  test('HMAC-SHA256 and random bytes computed for XS match node:crypto', async () => {
    const key = new TextEncoder().encode('Jefe');
    const message = new TextEncoder().encode('what do ya want for nothing?');
    expect(await bridge.app('hmac', { key, message })).toEqual(createNodeCrypto().hmacSha256(key, message));
    const random = (await bridge.app('random', 24)) as Uint8Array;
    expect(random).toHaveLength(24);
  });

  test('timers armed in XS run on Node timers and fire back in order; logging reaches the Node logger', async () => {
    await bridge.app('timers', [60, 20, 40]);
    expect(logLines).toEqual(['[info] armed 3 timers']);
    await noticeFrom('fired', (d) => (d as { delay: number }).delay === 60);
    await bridge.idle();
    const fired = notices.filter(([n]) => n === 'fired').map(([, d]) => d as { delay: number; elapsed: number });
    expect(fired.map((f) => f.delay)).toEqual([20, 40, 60]);
    for (const f of fired) expect(f.elapsed).toBeGreaterThanOrEqual(f.delay - 1);
    expect(bridge.armedTimers).toBe(0);
  });
});

describe('XS talks TLS through the Node transport', () => {
  test('bytes written in XS come back from a TLS echo server, then XS closes', async () => {
    const port = await listen(
      createTlsServer({ key: serverCert.keyPem, cert: serverCert.certPem }, (socket) => {
        socket.on('error', () => {});
        socket.pipe(socket);
      }),
    );
    const payload = new Uint8Array(70_000).map((_, i) => (i * 31) & 255);
    await bridge.app('echo', { port, ca: ca.certDer, payload });
    const closed = await noticeFrom('echo', (d) => typeof d === 'object' && d !== null && 'closed' in d);
    const echoed = notices.find(([n, d]) => n === 'echo' && d instanceof Uint8Array)?.[1];
    expect(echoed).toEqual(payload);
    expect(notices.filter(([n]) => n === 'echo').map(([, d]) => (d instanceof Uint8Array ? 'bytes' : d))).toEqual([
      'connected',
      'bytes',
      { closed: 'local', code: null },
    ]);
    expect(closed).toEqual({ closed: 'local', code: null });
    expect(bridge.openConnections).toBe(0);
  });

  test('a server XS does not trust is refused with tls-verify', async () => {
    const stranger = createCa('Stranger Root');
    const port = await listen(
      createTlsServer({ key: serverCert.keyPem, cert: serverCert.certPem }, (socket) => socket.on('error', () => {})),
    );
    await bridge.app('echo', { port, ca: stranger.certDer, payload: new Uint8Array([1]) });
    await noticeFrom('echo', (d) => typeof d === 'object' && d !== null && 'closed' in d);
    expect(notices.map(([, d]) => d)).toEqual([
      { error: 'tls-verify', message: 'server certificate not trusted: unable to verify the first certificate' },
      { closed: 'error', code: 'tls-verify' },
    ]);
  });
});

describe('the MQTT session on XS against a real broker over TLS', () => {
  test('connect, subscribe, publish QoS 1, receive a QoS 1 message, disconnect', async () => {
    const broker = await Aedes.createBroker();
    const published: { topic: string; payload: string; client?: string }[] = [];
    broker.on('publish', (packet, client) => {
      if (client) published.push({ topic: packet.topic, payload: Buffer.from(packet.payload).toString(), client: client.id });
    });
    const port = await listen(createTlsServer({ key: serverCert.keyPem, cert: serverCert.certPem }, broker.handle));
    servers.push(() => new Promise<void>((resolve) => broker.close(() => resolve())));

    await bridge.app('mqtt-start', { port, ca: ca.certDer });
    await noticeFrom('mqtt', (d) => d === 'published');
    expect(published).toEqual([{ topic: 'd2c/xs', payload: 'hi', client: 'xs-device' }]);

    await new Promise<void>((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic: 'c2d/reboot', payload: Buffer.from('now'), qos: 1, retain: false, dup: false }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await noticeFrom('mqtt', (d) => typeof d === 'object' && d !== null && 'message' in d);
    await bridge.app('mqtt-stop');
    await noticeFrom('mqtt', (d) => d === 'disconnected');
    await bridge.idle();
    expect(notices.map(([, d]) => d)).toEqual([
      { connected: false },
      { subscribed: [1] },
      'published',
      { message: 'c2d/reboot', payload: new TextEncoder().encode('now'), qos: 1 },
      { closed: 'local' },
      'disconnected',
    ]);
  });
});
