// Firmware images over HTTPS on loopback, for FOTA tests and demos: the emulator's CA and server certificate (the
// device trusts it like the hub), GET with one `Range: bytes=a-b` per request, keep-alive, and fault hooks that
// act on the next requests: drop the connection after some body bytes, answer a status (404, 500...), serve a
// shorter file than published, flip a byte, or send slowly.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsMaterial } from '../tls-material';

// `at` (drop, status): only the request with that number counts (1 = the first request in `requests`), so a test
// places a fault in the middle of a download without racing it.
export type ImageFault =
  /** Ends the connection after `afterBytes` body bytes of the next matching response. */
  | { kind: 'drop'; afterBytes: number; at?: number }
  /** Answers the next `times` requests with `status` and no image. */
  | { kind: 'status'; status: number; times?: number; at?: number }
  /** Serves only the first `bytes` bytes of every image from now on (a truncated upload). */
  | { kind: 'truncate'; bytes: number }
  /** Flips the low bit of the image byte at `offset` in every response from now on (a corrupted mirror). */
  | { kind: 'flip'; offset: number }
  /** Sends each response in pieces of `chunkBytes` with `delayMs` between them. */
  | { kind: 'slow'; chunkBytes: number; delayMs: number };

export interface ImageRequestLog {
  path: string;
  range: string | undefined;
  status: number;
  bytes: number;
}

export class ImageServer {
  private readonly images = new Map<string, Uint8Array>();
  private readonly faults: ImageFault[] = [];
  private readonly sockets = new Set<Socket>();
  readonly requests: ImageRequestLog[] = [];

  private constructor(private readonly server: Server) {}

  static async start(tls: TlsMaterial, port = 0): Promise<ImageServer> {
    const server = createServer({ key: tls.server.keyPem, cert: tls.server.certPem, keepAlive: true });
    const images = new ImageServer(server);
    server.on('request', (req, res) => images.handle(req.url ?? '/', req.headers.range, res));
    server.on('secureConnection', (socket) => {
      images.sockets.add(socket);
      socket.on('close', () => images.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return images;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Serves `bytes` at `path` (absolute, e.g. /fw/1.2.0.bin). */
  publish(path: string, bytes: Uint8Array): void {
    this.images.set(path, bytes);
  }

  inject(fault: ImageFault): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take<K extends ImageFault['kind']>(kind: K): Extract<ImageFault, { kind: K }> | undefined {
    const at = this.faults.findIndex((f) => f.kind === kind && (!('at' in f) || f.at === undefined || f.at === this.requests.length));
    return at < 0 ? undefined : (this.faults[at] as Extract<ImageFault, { kind: K }>);
  }

  private handle(path: string, range: string | undefined, res: import('node:http').ServerResponse): void {
    const log: ImageRequestLog = { path, range, status: 0, bytes: 0 };
    this.requests.push(log);
    const status = this.take('status');
    if (status !== undefined) {
      status.times = (status.times ?? 1) - 1;
      if (status.times <= 0) this.faults.splice(this.faults.indexOf(status), 1);
      log.status = status.status;
      res.writeHead(status.status, { 'Content-Length': '0' }).end();
      return;
    }
    let image = this.images.get(path);
    if (image === undefined) {
      log.status = 404;
      res.writeHead(404, { 'Content-Length': '0' }).end();
      return;
    }
    const truncate = this.take('truncate');
    if (truncate !== undefined) image = image.subarray(0, truncate.bytes);
    const flip = this.take('flip');
    if (flip !== undefined && flip.offset < image.length) {
      image = image.slice();
      image[flip.offset] = image[flip.offset]! ^ 1;
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
    if (match === null) {
      log.status = 200;
      log.bytes = image.length;
      res.writeHead(200, { 'Content-Length': String(image.length) }).end(Buffer.from(image));
      return;
    }
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), image.length - 1);
    if (start >= image.length || end < start) {
      log.status = 416;
      res.writeHead(416, { 'Content-Range': `bytes */${image.length}`, 'Content-Length': '0' }).end();
      return;
    }
    const body = Buffer.from(image.subarray(start, end + 1));
    log.status = 206;
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${image.length}`, 'Content-Length': String(body.length) });
    const drop = this.take('drop');
    if (drop !== undefined) {
      this.faults.splice(this.faults.indexOf(drop), 1);
      const sent = Math.min(drop.afterBytes, body.length);
      log.bytes = sent;
      res.flushHeaders();
      res.write(body.subarray(0, sent), () => res.socket?.destroy());
      return;
    }
    const slow = this.take('slow');
    log.bytes = body.length;
    if (slow === undefined) {
      res.end(body);
      return;
    }
    let at = 0;
    const step = (): void => {
      if (res.destroyed) return;
      const piece = body.subarray(at, at + slow.chunkBytes);
      at += piece.length;
      if (at >= body.length) res.end(piece);
      else res.write(piece, () => setTimeout(step, slow.delayMs));
    };
    step();
  }
}
