// MQTT over WebSockets for the emulator, as Azure serves it: TLS, then an HTTP upgrade at `/$iothub/websocket`
// with the subprotocol `mqtt`, then MQTT in binary frames. The `ws` package does the server side of RFC 6455;
// each accepted WebSocket becomes a byte stream handed to the hub or DPS exactly as a TLS socket from their MQTT
// port is, with the TLS socket's client certificate (X.509 devices work the same over both).
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { EmulatorLog } from './log';

export const WS_PATH = '/$iothub/websocket';

export interface WsFrontOptions {
  /** Names the service in logs: 'hub' or 'DPS'. */
  name: string;
  port: number;
  tls: { key: string; cert: string; ca?: string };
  /** Gets the stream of each accepted WebSocket, shaped like the TLS socket of an MQTT connection. */
  onSocket(socket: TLSSocket): void;
  log: EmulatorLog;
}

export interface WsFront {
  readonly port: number;
  /** Upgrades answered 101 so far. */
  readonly upgrades: number;
  close(): Promise<void>;
}

export async function startWsFront(options: WsFrontOptions): Promise<WsFront> {
  const server: Server = createServer({
    key: options.tls.key,
    cert: options.tls.cert,
    ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
    minVersion: 'TLSv1.2',
    requestCert: true,
    rejectUnauthorized: false,
  });
  const raw = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    raw.add(socket);
    socket.once('close', () => raw.delete(socket));
  });
  // Anything but the upgrade (a browser, a plain GET) is told where MQTT over WebSockets lives.
  server.on('request', (_request, response) => {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end(`MQTT over WebSockets is at ${WS_PATH}\n`);
  });
  const wss = new WebSocket.Server({
    server,
    path: WS_PATH,
    perMessageDeflate: false,
    // Azure's limit for one message is 256 KB; room for topic and properties.
    maxPayload: 320 * 1024,
    handleProtocols: (protocols: string[]) => (protocols.includes('mqtt') ? 'mqtt' : false),
  });
  let upgrades = 0;
  wss.on('connection', (ws: WebSocket, request) => {
    upgrades++;
    const tlsSocket = request.socket as TLSSocket;
    const stream: Duplex = WebSocket.createWebSocketStream(ws);
    stream.on('error', (error) => options.log('debug', `${options.name} websocket: ${error.message}`));
    const socketLike = Object.assign(stream, {
      getPeerCertificate: (detailed: boolean) => tlsSocket.getPeerCertificate(detailed),
      setNoDelay: () => socketLike,
    });
    options.onSocket(socketLike as unknown as TLSSocket);
  });
  wss.on('error', (error: Error) => options.log('warn', `${options.name} websocket server: ${error.message}`));
  server.on('tlsClientError', (error) => options.log('debug', `${options.name} websocket TLS handshake failed: ${error.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.log('info', `${options.name} MQTT over WebSockets on wss://127.0.0.1:${port}${WS_PATH}`);
  let closing: Promise<void> | undefined;
  return {
    port,
    get upgrades() {
      return upgrades;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        for (const socket of raw) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
