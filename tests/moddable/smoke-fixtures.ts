// Loopback servers the Moddable smoke app talks to: a TLS echo server (leaf + intermediate chain, because
// Moddable's verifier needs the chain's last certificate to carry an authorityKeyIdentifier), a TLS server
// that demands a client certificate and answers with its subject CN, and an SNTP responder.
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { KeyAndCert } from '../../emulator/src/pki';

export interface Closable {
  close(): Promise<void>;
}

export interface ListeningServer extends Closable {
  port: number;
}

function listen(server: TlsServer): Promise<ListeningServer> {
  const sockets = new Set<Socket>();
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  // Failed handshakes are what several smoke cases are about; they are not errors of the fixture.
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

export function startEchoServer(leaf: KeyAndCert, intermediate: KeyAndCert): Promise<ListeningServer> {
  const server = createTlsServer({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem, minVersion: 'TLSv1.2' }, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => socket.write(chunk));
  });
  return listen(server);
}

/** Requires a client certificate from `clientCa`; writes "client CN=<cn>\n" and keeps the connection open. */
export function startClientAuthServer(leaf: KeyAndCert, intermediate: KeyAndCert, clientCa: KeyAndCert): Promise<ListeningServer> {
  const server = createTlsServer(
    {
      key: leaf.keyPem,
      cert: leaf.certPem + intermediate.certPem,
      ca: clientCa.certPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => {
      socket.on('error', () => undefined);
      const subject = socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined;
      const cn = Array.isArray(subject?.CN) ? subject.CN.join(',') : (subject?.CN ?? '?');
      socket.write(`client CN=${cn}\n`);
    },
  );
  return listen(server);
}

/** A port nothing listens on (bound, read, released). */
export function findClosedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const NTP_UNIX_OFFSET = 2208988800;

/**
 * Answers SNTP requests on 127.0.0.1:123 (the SDK's client always uses port 123) with a fixed transmit time.
 * Resolves undefined when the port cannot be bound (not root, or another run holds it).
 */
export function startSntpResponder(unixSeconds: number): Promise<Closable | undefined> {
  const socket: UdpSocket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.on('message', (request, from) => {
      if (request.length < 48) return;
      const reply = Buffer.alloc(48);
      reply[0] = 0x24; // leap 0, version 4, mode 4 (server)
      reply[1] = 1; // stratum 1: a zero stratum would be a kiss-o'-death
      reply.writeUInt32BE(unixSeconds + NTP_UNIX_OFFSET, 40);
      socket.send(reply, from.port, from.address);
    });
    socket.bind(123, '127.0.0.1', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve({ close: () => new Promise<void>((done) => socket.close(() => done())) });
    });
  });
}
