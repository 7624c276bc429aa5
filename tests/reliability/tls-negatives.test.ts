// TLS failures at the hub-client level, on the Node host against real loopback TLS servers: wrong CA, host name
// mismatch, expired server certificate, clock not set, plain TCP. Each gives a typed error with a clear message
// and a bounded number of attempts in a fixed window.
//
// What the hub client does (src/hub/failure-cause.ts): a certificate failure (tls-verify, tls-hostname) is retried,
// since a server-side rollover can cure it, but only after the long throttling floor, never the short backoff.
// Other transport failures (a clear-text server) use the ordinary exponential backoff. Refused credentials
// (CONNACK 4/5) stop the client after one attempt. An unset clock stops it before any connection is opened.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Emulator } from '../../emulator/src/emulator';
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createTlsMaterial, type TlsMaterial } from '../../emulator/src/tls-material';
import { createNodeClock, createNodeTlsTransportFactory } from '../../hosts/node';
import { countingTransport, type CountingTransport } from '../../soak/lib/counting-transport';
import { emulatorHubClient } from '../../soak/lib/emulator-client';
import type { HubClient } from '../../src/hub/hub-client';
import type { HubClientConfig } from '../../src/hub/hub-settings';
import { HubError } from '../../src/hub/hub-error';
import { MqttConnectError } from '../../src/mqtt/session-errors';
import { report } from './report';

const WINDOW_MS = 1000;
/** Exponential from 50 ms, no jitter: attempts at about 0, 50, 150, 350, 750 ms in the window. */
const BACKOFF = { minDelayMs: 50, maxDelayMs: 10_000, maxJitterMs: 0, throttledMinMs: 5000, throttledMaxMs: 5000 };
const MAX_ATTEMPTS_IN_WINDOW = 6;
const DAY_MS = 24 * 3600 * 1000;

interface Run {
  counter: CountingTransport;
  errors: HubError[];
  delays: number[];
  connectOutcome: HubError | 'connected';
  state: string;
}

async function runFor(emulator: Emulator, key: string, config: Partial<HubClientConfig>, windowMs = WINDOW_MS, clock = createNodeClock()): Promise<Run> {
  const counter = countingTransport(createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 3000, closeGraceMs: 100 }));
  const client: HubClient = emulatorHubClient(emulator, { deviceId: 'tls-device', key, config: { backoff: BACKOFF, ...config }, ports: { transport: counter.factory, clock } });
  const errors: HubError[] = [];
  const delays: number[] = [];
  client.on('error', (e) => errors.push(e));
  client.on('reconnecting', ({ delayMs }) => delays.push(Math.round(delayMs)));
  let connectOutcome: HubError | 'connected' = new HubError('timeout', 'connect() still pending at the end of the window');
  client.connect().then(
    () => (connectOutcome = 'connected'),
    (e: HubError) => (connectOutcome = e),
  );
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const state = client.state;
  await client.close();
  return { counter, errors, delays, connectOutcome, state };
}

function transportCodes(run: Run): string[] {
  return run.counter.attempts.map((a) => a.error?.code ?? (a.connected ? 'connected' : 'none'));
}

function reportRun(name: string, run: Run, windowMs = WINDOW_MS): void {
  report(`tls ${name}: ${run.counter.attempts.length} attempts in ${windowMs} ms at ${run.counter.attempts.map((a) => a.atMs).join('/')} ms, backoffs ${run.delays.join('/')} ms, ends ${run.state}`);
}

function causeCode(error: HubError): string | undefined {
  return error.cause instanceof MqttConnectError ? error.cause.reason.transportError?.code : undefined;
}

describe('TLS negatives: a clear error and a bounded number of attempts', () => {
  let tls: TlsMaterial;
  let emulator: Emulator;
  let key: string;

  beforeAll(async () => {
    tls = createTlsMaterial();
    emulator = await Emulator.start({ persist: false, dps: false, hubHostName: 'tls-hub.azure-devices.net', tls });
    const record = emulator.addDevice('tls-device');
    if (record.auth.type !== 'sas') throw new Error('expected a SAS device');
    key = record.auth.primaryKey;
  }, 30_000);

  afterAll(async () => {
    await emulator.stop();
  });

  test('control: the right CA and name connect at the first attempt', async () => {
    const run = await runFor(emulator, key, {}, 300);
    expect(run.connectOutcome).toBe('connected');
    expect(transportCodes(run)).toEqual(['connected']);
  });

  test('wrong CA: tls-verify, next attempt only after the throttling floor, never connected', async () => {
    const otherCa = createCa('Some Other Root');
    const run = await runFor(emulator, key, { trustedCAs: [otherCa.certDer] });
    reportRun('wrong CA', run);
    expect(transportCodes(run)).toEqual(['tls-verify']);
    expect(run.errors[0]?.code).toBe('connect-failed');
    expect(run.errors[0]?.retryable).toBe(true);
    expect(causeCode(run.errors[0]!)).toBe('tls-verify');
    expect(run.errors[0]?.message).toMatch(
      // OpenSSL words it either way, depending on whether the server sent its CA along.
      /^connecting failed: transport failed \(tls-verify\): server certificate not trusted: unable to (verify the first certificate|get local issuer certificate)$/,
    );
    expect(run.delays).toEqual([BACKOFF.throttledMinMs]);
    expect(run.state).toBe('waiting');
  });

  test('host name mismatch: tls-hostname naming the expected name', async () => {
    const run = await runFor(emulator, key, { endpoint: { host: '127.0.0.1', port: emulator.hubPort, serverName: 'hub.wrong.example' } });
    reportRun('host name mismatch', run);
    expect(transportCodes(run)).toEqual(['tls-hostname']);
    expect(run.delays).toEqual([BACKOFF.throttledMinMs]);
    expect(run.errors[0]?.message).toMatch(/^connecting failed: transport failed \(tls-hostname\): server certificate does not match "hub\.wrong\.example": /);
  });

  test('expired server certificate: tls-verify saying it expired', async () => {
    // Signed like the emulator's own leaf (by its intermediate when it has one, sent along as the chain).
    const issuer = (tls as { intermediate?: KeyAndCert }).intermediate;
    const leaf = issueServerCertificate(issuer ?? tls.ca, { notBefore: new Date(Date.now() - 30 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    const expired: KeyAndCert = issuer === undefined ? leaf : { ...leaf, certPem: leaf.certPem + issuer.certPem };
    const stale = await Emulator.start({ persist: false, dps: false, hubHostName: 'tls-hub.azure-devices.net', tls: { ...tls, server: expired } });
    try {
      const record = stale.addDevice('tls-device');
      const staleKey = record.auth.type === 'sas' ? record.auth.primaryKey : '';
      const run = await runFor(stale, staleKey, {});
      reportRun('expired certificate', run);
      expect(transportCodes(run)).toEqual(['tls-verify']);
      expect(run.delays).toEqual([BACKOFF.throttledMinMs]);
      expect(run.errors[0]?.message).toMatch(/certificate has expired/i);
    } finally {
      await stale.stop();
    }
  });

  test('clock not set: clock-not-set at once, no connection opened; connects once the clock is set', async () => {
    const clock = createNodeClock({ notSet: true });
    const counter = countingTransport(createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 3000, closeGraceMs: 100 }));
    const client = emulatorHubClient(emulator, { deviceId: 'tls-device', key, config: { backoff: BACKOFF }, ports: { transport: counter.factory, clock } });
    const errors: HubError[] = [];
    client.on('error', (e) => errors.push(e));
    try {
      const outcome = await client.connect().then(() => 'connected', (e: HubError) => e);
      expect(outcome).toBeInstanceOf(HubError);
      expect((outcome as HubError).code).toBe('clock-not-set');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(counter.attempts).toEqual([]);
      // Reported once, not on every re-check.
      expect(errors.map((e) => e.code)).toEqual(['clock-not-set']);
      clock.markSet();
      const connected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
      await connected;
      expect(counter.attempts.map((a) => a.connected)).toEqual([true]);
    } finally {
      await client.close();
    }
  });

  test('refused credentials, for contrast: one attempt, then stopped', async () => {
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const run = await runFor(emulator, wrongKey, {}, 500);
    reportRun('refused credentials', run, 500);
    expect(run.counter.attempts).toHaveLength(1);
    expect(run.state).toBe('stopped');
    expect(run.errors.map((e) => [e.code, e.returnCode])).toEqual([['auth-failed', 4]]);
    expect(run.connectOutcome).toBeInstanceOf(HubError);
  });
});

describe('plain TCP is refused both ways', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  const firstBytes: Buffer[] = [];

  beforeAll(async () => {
    // A plain MQTT listener: it answers whatever comes with a clear-text CONNACK, as a 1883 broker would.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', (data) => {
        firstBytes.push(data);
        socket.end(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('the client against a clear-text server: TLS handshake fails, the token never leaves in clear, backoff bounds the attempts', async () => {
    const port = (server.address() as { port: number }).port;
    const tls = createTlsMaterial();
    const emulatorLike = { hubHostName: 'plain-hub.azure-devices.net', caDer: tls.ca.certDer, hubPort: port } as unknown as Emulator;
    const run = await runFor(emulatorLike, Buffer.alloc(32, 1).toString('base64'), {});
    reportRun('plain TCP server', run);
    const codes = transportCodes(run);
    expect(codes.length).toBeGreaterThanOrEqual(3);
    expect(codes.length).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
    expect(new Set(codes)).toEqual(new Set(['tls-handshake']));
    expect(run.errors[0]?.message).toMatch(/^connecting failed: transport failed \(tls-handshake\): /);
    // Every first record the server saw was a TLS handshake (0x16), never an MQTT CONNECT (0x10).
    expect(firstBytes.length).toBeGreaterThanOrEqual(3);
    expect(firstBytes.every((b) => b[0] === 0x16)).toBe(true);
    expect(Buffer.concat(firstBytes).includes('SharedAccessSignature')).toBe(false);
  });

  test('the emulated hub against a clear-text MQTT CONNECT: no CONNACK, the connection is dropped', async () => {
    const tls = createTlsMaterial();
    const hub = await Emulator.start({ persist: false, dps: false, tls });
    try {
      const connect = Buffer.from('101000044d5154540402003c0004706c61696e', 'hex');
      const received = await new Promise<Buffer>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port: hub.hubPort }, () => socket.write(connect));
        const chunks: Buffer[] = [];
        socket.on('data', (d) => chunks.push(d));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.setTimeout(3000, () => socket.destroy());
      });
      expect(received.includes(Buffer.from([0x20, 0x02]))).toBe(false);
      expect(hub.connectionLog()).toEqual([]);
    } finally {
      await hub.stop();
    }
  });
});
