import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { createServer as createTcpServer, type Server as TcpServer, type Socket, type AddressInfo } from 'node:net';
import { createCa, issueServerCertificate, issueDeviceCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { createNodeTlsTransportFactory } from '../../hosts/node/node-tls-transport';
import type { TlsConnectOptions } from '../../src/ports';
import { recordTransport } from '../helpers/transport-recorder';

const DAY_MS = 24 * 3600 * 1000;
const factory = createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 500 });

let ca: KeyAndCert;
let otherCa: KeyAndCert;
let serverCert: KeyAndCert;
let wrongNameCert: KeyAndCert;
let expiredCert: KeyAndCert;
let deviceCa: KeyAndCert;
let deviceCert: KeyAndCert;

beforeAll(() => {
  ca = createCa('Transport Test Root');
  otherCa = createCa('Someone Else Root');
  serverCert = issueServerCertificate(ca);
  wrongNameCert = issueServerCertificate(ca, { commonName: 'other.example', dnsNames: ['other.example'], ipAddresses: [] });
  expiredCert = issueServerCertificate(ca, { notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
  deviceCa = createCa('Device Root');
  deviceCert = issueDeviceCertificate('device-7', deviceCa);
});

// Every server and accepted socket is closed after each test so jest exits with no open handles.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(server: TlsServer | TcpServer): void {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
}

async function listen(server: TlsServer | TcpServer): Promise<number> {
  track(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function tlsServer(cert: KeyAndCert, onSocket: (socket: TLSSocket) => void, extra: object = {}): Promise<number> {
  const server = createTlsServer({ key: cert.keyPem, cert: cert.certPem, ...extra }, onSocket);
  server.on('tlsClientError', () => {});
  return listen(server);
}

const echo = (socket: TLSSocket): void => {
  socket.on('error', () => {});
  socket.pipe(socket);
};

function options(port: number, overrides: Partial<TlsConnectOptions> = {}): TlsConnectOptions {
  return { host: '127.0.0.1', port, serverName: 'localhost', trustedCAs: [ca.certDer], ...overrides };
}

describe('a verified TLS connection carries bytes both ways', () => {
  test('connect, echo, local close', async () => {
    const port = await tlsServer(serverCert, echo);
    const rec = recordTransport();
    const transport = factory.connect(options(port), rec.events);
    await rec.connected;
    expect(transport.write(new Uint8Array([0x10, 0x00, 0xff, 0x7f]))).toBe(true);
    expect(transport.write(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(Array.from(await rec.received(7))).toEqual([0x10, 0x00, 0xff, 0x7f, 1, 2, 3]);
    transport.close();
    transport.close();
    expect(await rec.closed).toEqual({ by: 'local', message: 'connection closed by this device' });
    expect(rec.kinds().filter((k) => k === 'close')).toHaveLength(1);
    expect(rec.kinds()).not.toContain('error');
    const firstData = rec.log.find((e) => e.kind === 'data');
    expect(firstData?.kind === 'data' && Object.getPrototypeOf(firstData.bytes)).toBe(Uint8Array.prototype);
    expect(transport.write(new Uint8Array([1]))).toBe(false);
  });

  test('serverName defaults to host when host is a DNS name', async () => {
    const port = await tlsServer(serverCert, echo);
    const rec = recordTransport();
    const transport = factory.connect({ host: 'localhost', port, trustedCAs: [ca.certDer] }, rec.events);
    await rec.connected;
    transport.close();
    expect((await rec.closed).by).toBe('local');
  });
});

describe('server certificates that must be refused', () => {
  async function refusedWith(cert: KeyAndCert, connect: Partial<TlsConnectOptions> = {}) {
    const port = await tlsServer(cert, echo);
    const rec = recordTransport();
    factory.connect(options(port, connect), rec.events);
    const reason = await rec.closed;
    expect(rec.kinds()).toEqual(['error', 'close']);
    const error = rec.log[0].kind === 'error' ? rec.log[0].error : undefined;
    expect(reason).toEqual({ by: 'error', code: error?.code, message: error?.message });
    return reason;
  }

  test('a server signed by a CA we do not trust -> tls-verify', async () => {
    const reason = await refusedWith(serverCert, { trustedCAs: [otherCa.certDer] });
    expect(reason.code).toBe('tls-verify');
    expect(reason.message).toBe('server certificate not trusted: unable to verify the first certificate');
  });

  test('no trusted CAs at all trusts nobody -> tls-verify', async () => {
    expect((await refusedWith(serverCert, { trustedCAs: [] })).code).toBe('tls-verify');
  });

  test('a certificate for another name -> tls-hostname', async () => {
    const reason = await refusedWith(wrongNameCert);
    expect(reason.code).toBe('tls-hostname');
    expect(reason.message).toMatch(/^server certificate does not match "localhost": .*other\.example/);
  });

  test('an expired certificate -> tls-verify', async () => {
    const reason = await refusedWith(expiredCert);
    expect(reason.code).toBe('tls-verify');
    expect(reason.message).toBe('server certificate not trusted: certificate has expired');
  });
});

describe('connection failures are classified, never hang', () => {
  test('a plain TCP server answering with non-TLS bytes -> tls-handshake', async () => {
    const server = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const port = await listen(server);
    const rec = recordTransport();
    factory.connect(options(port), rec.events);
    const reason = await rec.closed;
    expect(rec.kinds()).toEqual(['error', 'close']);
    expect(reason.code).toBe('tls-handshake');
    expect(reason.message).toBe('TLS handshake failed: wrong version number');
  });

  test('a server that accepts TCP and never speaks -> timeout', async () => {
    const port = await listen(createTcpServer((socket) => socket.on('error', () => {})));
    const rec = recordTransport();
    const started = Date.now();
    factory.connect(options(port, { connectTimeoutMs: 300 }), rec.events);
    const reason = await rec.closed;
    expect(reason).toEqual({ by: 'error', code: 'timeout', message: `no TLS connection to 127.0.0.1:${port} after 300 ms` });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('nothing listening -> refused', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const rec = recordTransport();
    factory.connect(options(port), rec.events);
    expect(await rec.closed).toEqual({ by: 'error', code: 'refused', message: `connection refused by 127.0.0.1:${port}` });
    expect(rec.kinds()).toEqual(['error', 'close']);
  });

  test('a client key that does not parse -> other, reported after connect() returns', async () => {
    const rec = recordTransport();
    const transport = factory.connect(
      options(1, { clientCertificates: [deviceCert.certDer], clientKey: new Uint8Array([1, 2, 3]) }),
      rec.events,
    );
    expect(rec.log).toEqual([]);
    expect(transport.write(new Uint8Array([1]))).toBe(false);
    const reason = await rec.closed;
    expect(reason.code).toBe('other');
    expect(reason.message).toMatch(/^cannot start a TLS connection to 127\.0\.0\.1:1: /);
  });
});

describe('the server ends the connection', () => {
  test('server closes after the handshake -> onClose by peer, no error', async () => {
    const port = await tlsServer(serverCert, (socket) => {
      socket.on('error', () => {});
      socket.end();
    });
    const rec = recordTransport();
    factory.connect(options(port), rec.events);
    expect(await rec.closed).toEqual({ by: 'peer', message: `127.0.0.1:${port} closed the connection` });
    expect(rec.kinds()).toEqual(['connect', 'close']);
  });
});

describe('back-pressure', () => {
  test('write returns false when the buffer is full and onWritable follows once it drains', async () => {
    let receivedByServer = 0;
    let accepted!: (socket: TLSSocket) => void;
    const serverSide = new Promise<TLSSocket>((resolve) => (accepted = resolve));
    const port = await tlsServer(serverCert, (socket) => {
      socket.on('error', () => {});
      socket.pause();
      socket.on('data', (chunk: Buffer) => (receivedByServer += chunk.length));
      accepted(socket);
    });
    const rec = recordTransport();
    const transport = factory.connect(options(port), rec.events);
    await rec.connected;
    const server = await serverSide;
    const big = new Uint8Array(4 * 1024 * 1024).fill(0x5a);
    let acceptedAll = true;
    let sent = 0;
    for (let i = 0; i < 16 && acceptedAll; i++) {
      acceptedAll = transport.write(big);
      sent += big.length;
    }
    expect(acceptedAll).toBe(false);
    expect(rec.kinds()).not.toContain('writable');
    server.resume();
    await rec.writable();
    expect(rec.kinds().filter((k) => k === 'writable')).toHaveLength(1);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (receivedByServer >= sent) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    expect(receivedByServer).toBe(sent);
    transport.close();
    expect((await rec.closed).by).toBe('local');
  });
});

describe('mutual TLS', () => {
  test('a client certificate is presented to a server that requires one', async () => {
    let peerCn: string | string[] | undefined;
    const port = await tlsServer(
      serverCert,
      (socket) => {
        socket.on('error', () => {});
        peerCn = socket.getPeerCertificate().subject?.CN;
        socket.write('ok');
      },
      { requestCert: true, rejectUnauthorized: true, ca: [deviceCa.certPem] },
    );
    const rec = recordTransport();
    const transport = factory.connect(
      options(port, { clientCertificates: [deviceCert.certDer, deviceCa.certDer], clientKey: deviceCert.keyDer }),
      rec.events,
    );
    await rec.connected;
    expect(new TextDecoder().decode(await rec.received(2))).toBe('ok');
    expect(peerCn).toBe('device-7');
    transport.close();
    expect((await rec.closed).by).toBe('local');
  });

  test('without a client certificate the server refuses -> tls-handshake', async () => {
    const port = await tlsServer(serverCert, echo, { requestCert: true, rejectUnauthorized: true, ca: [deviceCa.certPem] });
    const rec = recordTransport();
    factory.connect(options(port), rec.events);
    const reason = await rec.closed;
    expect(reason.by).toBe('error');
    expect(reason.code).toBe('tls-handshake');
    expect(reason.message).toMatch(/certificate required/);
    expect(rec.kinds().slice(-2)).toEqual(['error', 'close']);
  });
});
