// Smoke app for hosts/moddable on the real Moddable runtime (mcsim). tests/moddable/smoke.test.ts builds it
// with a generated manifest that adds the loopback server's port, a preference folder and the test CA
// ("smoke-ca.der") and a device certificate and key ("smoke-device-cert.der", "smoke-device-key.der"), runs it and
// checks these lines. One line per fact, prefixed "smoke:", ending "smoke: done".
import config from 'mc/config';
import Resource from 'Resource';
import type { HostPorts, TransportError } from '../../../src/ports';
import { createModdableHost } from '../../../hosts/moddable/host';
import { loadCertificateResources } from '../../../hosts/moddable/root-certificates';
import { syncClockWithSntp } from '../../../hosts/moddable/sntp-sync';

interface SmokeConfig {
  port: number;
  clientAuthPort: number;
  closedPort: number;
  echoBytes: number;
  sntpHost?: string;
}

const settings = (config as { smoke?: SmokeConfig }).smoke;

function say(line: string): void {
  trace(`smoke: ${line}\n`);
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkCrypto(host: HostPorts): void {
  // RFC 4231 test case 2.
  say(`hmac ${hex(host.crypto.hmacSha256(ascii('Jefe'), ascii('what do ya want for nothing?')))}`);
  const random = host.crypto.randomBytes(32);
  say(`random ${random.length} bytes, ${random.some((b) => b !== 0) ? 'not all zero' : 'ALL ZERO'}`);
}

function checkStore(host: HostPorts): void {
  const { store } = host;
  const big = pattern(5000, 7);
  store.set('device/large-value', big);
  store.set('device/small', ascii('hi'));
  say(`store large ${same(store.get('device/large-value'), big) ? 'read back ok' : 'MISMATCH'} ${big.length} bytes`);
  const smaller = pattern(1500, 3);
  store.set('device/large-value', smaller);
  say(`store rewrite ${same(store.get('device/large-value'), smaller) ? 'read back ok' : 'MISMATCH'} ${smaller.length} bytes`);
  say(`store keys ${store.keys().sort().join(',')}`);
  store.delete('device/large-value');
  say(`store delete ${store.get('device/large-value') === undefined ? 'gone' : 'STILL THERE'}`);
  const empty = new Uint8Array(0);
  store.set('device/empty', empty);
  say(`store empty ${same(store.get('device/empty'), empty) ? 'read back ok' : 'MISMATCH'}`);
}

function checkTime(host: HostPorts): void {
  const a = host.timers.now();
  const b = host.timers.now();
  say(`timers now monotonic ${b >= a ? 'yes' : 'NO'}`);
  say(`clock ${host.clock.unixMs() === undefined ? 'not set' : 'set'}`);
}

function tlsEcho(host: HostPorts, trusted: Uint8Array[], next: () => void): void {
  const expected = settings!.echoBytes;
  const payload = pattern(expected, 11);
  let received = 0;
  let mismatch = false;
  let writesRefused = 0;
  let writableEvents = 0;
  const transport = host.transport.connect(
    { host: '127.0.0.1', port: settings!.port, serverName: 'localhost', trustedCAs: trusted, connectTimeoutMs: 20000 },
    {
      onConnect() {
        say('tls connected');
        // Two writes, each larger than the transport hands the socket in one turn: the second finds a backlog,
        // both are refused, and onWritable must follow once the queue drains.
        const half = payload.length >> 1;
        if (!transport.write(payload.subarray(0, half))) writesRefused++;
        if (!transport.write(payload.subarray(half))) writesRefused++;
      },
      onData(chunk) {
        for (let i = 0; i < chunk.length; i++) if (chunk[i] !== payload[received + i]) mismatch = true;
        received += chunk.length;
        if (received >= expected) {
          say(`tls echo ${mismatch || received !== expected ? 'MISMATCH' : 'ok'} ${received} bytes`);
          say(`tls back-pressure ${writesRefused > 0 && writableEvents > 0 ? 'seen' : 'not seen'}`);
          transport.close();
        }
      },
      onWritable() {
        writableEvents++;
      },
      onError(error) {
        say(`tls echo error ${error.code} ${error.message}`);
      },
      onClose(reason) {
        say(`tls closed by ${reason.by}`);
        next();
      },
    },
  );
}

function clientCertificate(host: HostPorts, trusted: Uint8Array[], next: () => void): void {
  const cert = new Uint8Array(new Resource('smoke-device-cert.der'));
  const key = new Uint8Array(new Resource('smoke-device-key.der'));
  let text = '';
  const transport = host.transport.connect(
    {
      host: '127.0.0.1',
      port: settings!.clientAuthPort,
      serverName: 'localhost',
      trustedCAs: trusted,
      clientCertificates: [cert],
      clientKey: key,
      connectTimeoutMs: 20000,
    },
    {
      onConnect: () => undefined,
      onData(chunk) {
        for (const b of chunk) text += String.fromCharCode(b);
        if (text.endsWith('\n')) {
          say(`tls client-cert answer ${text.trim()}`);
          transport.close();
        }
      },
      onWritable: () => undefined,
      onError: (e) => say(`tls client-cert error ${e.code} ${e.message}`),
      onClose: () => next(),
    },
  );
}

function expectFailure(
  host: HostPorts,
  label: string,
  options: { port: number; serverName: string; trusted: Uint8Array[] },
  next: () => void,
): void {
  let error: TransportError | undefined;
  host.transport.connect(
    { host: '127.0.0.1', port: options.port, serverName: options.serverName, trustedCAs: options.trusted, connectTimeoutMs: 4000 },
    {
      onConnect: () => say(`${label} UNEXPECTEDLY CONNECTED`),
      onData: () => undefined,
      onWritable: () => undefined,
      onError: (e) => {
        error = e;
      },
      onClose: (reason) => {
        say(`${label} ${error?.code ?? 'no-error'} (closed by ${reason.by}): ${error?.message ?? reason.message}`);
        next();
      },
    },
  );
}

function run(): void {
  say('start');
  if (!settings) {
    say('no smoke config');
    return;
  }
  const host = createModdableHost({ logPrefix: 'host', logLevel: 'debug' });
  checkCrypto(host);
  checkStore(host);
  checkTime(host);

  const roots = loadCertificateResources();
  say(`root resources ${roots.map((r) => r.name).join(',')}`);
  const testCa = new Uint8Array(new Resource('smoke-ca.der'));
  // An expired root first: the transport must skip it and still trust the test CA.
  const baltimore = roots.filter((r) => r.name.startsWith('baltimore')).map((r) => r.der);
  const azureOnly = roots.filter((r) => !r.name.startsWith('baltimore')).map((r) => r.der);

  const steps: ((next: () => void) => void)[] = [
    (next) => tlsEcho(host, [...baltimore, testCa], next),
    (next) => clientCertificate(host, [testCa], next),
    (next) => expectFailure(host, 'tls no-client-cert', { port: settings.clientAuthPort, serverName: 'localhost', trusted: [testCa] }, next),
    (next) => expectFailure(host, 'tls wrong-name', { port: settings.port, serverName: 'wrong.example', trusted: [testCa] }, next),
    (next) => expectFailure(host, 'tls wrong-ca', { port: settings.port, serverName: 'localhost', trusted: azureOnly }, next),
    (next) => expectFailure(host, 'tls closed-port', { port: settings.closedPort, serverName: 'localhost', trusted: [testCa] }, next),
  ];
  if (settings.sntpHost) {
    const sntpHost = settings.sntpHost;
    steps.push((next) =>
      syncClockWithSntp({ hosts: [sntpHost], timeoutMs: 15000 }, (result) => {
        say(result.ok ? `sntp ok ${result.value.unixSeconds}` : `sntp failed ${result.error}`);
        next();
      }),
    );
  }
  const runStep = (i: number): void => {
    if (i >= steps.length) {
      say('done');
      return;
    }
    steps[i](() => runStep(i + 1));
  };
  runStep(0);
}

run();
