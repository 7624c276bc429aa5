// An IoT Edge gateway for tests and people: devices name it with `GatewayHostName=` and open TLS to it, trusting
// the gateway's own CA (Edge's device CA, not the hub's); it opens its own TLS connection to the hub, trusting the
// hub's CA, and carries the device's MQTT both ways. The device signs for the hub and never talks to it directly,
// which is what a device sees of a real Edge hub in a transparent-gateway set-up.
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { createTlsMaterial, type TlsMaterial } from './tls-material';

export interface EdgeGatewayOptions {
  /** Where the hub listens (the emulator's hub port on 127.0.0.1). */
  hubPort: number;
  /** The hub's CA, PEM: the gateway trusts it upstream. */
  hubCaPem: string;
  /** The gateway's own CA and server certificate; default a fresh one. */
  tls?: TlsMaterial;
  port?: number;
}

export interface EdgeGateway {
  readonly port: number;
  /** The CA devices must trust to reach the gateway (DER). */
  readonly caDer: Uint8Array;
  readonly caPem: string;
  /** Device connections carried to the hub so far. */
  readonly routed: number;
  close(): Promise<void>;
}

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

export async function startEdgeGateway(options: EdgeGatewayOptions): Promise<EdgeGateway> {
  const tls = options.tls ?? createTlsMaterial();
  const sockets = new Set<Socket>();
  let routed = 0;
  const server: Server = createServer({ key: tls.server.keyPem, cert: tls.server.certPem, minVersion: 'TLSv1.2' }, (device: TLSSocket) => {
    routed++;
    const upstream = connect({ host: '127.0.0.1', port: options.hubPort, servername: 'localhost', ca: options.hubCaPem, minVersion: 'TLSv1.2' });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.setNoDelay(true);
    device.pipe(upstream);
    upstream.pipe(device);
    const end = (): void => {
      device.destroy();
      upstream.destroy();
    };
    device.on('error', end);
    upstream.on('error', end);
    device.on('close', end);
    upstream.on('close', end);
  });
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    port,
    caDer: pemToDer(tls.ca.certPem),
    caPem: tls.ca.certPem,
    get routed() {
      return routed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
