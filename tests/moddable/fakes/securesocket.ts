// Stand-in for Moddable's "securesocket" (documentation/network/securesocket.md; modules/crypt/securesocket),
// mapped by jest.config.js, so hosts/moddable/transport.ts runs on Node. What it keeps of the SDK's behaviour:
// - callback messages: 1 once the TLS handshake ends (also when it ended on an alert: the session then holds
//   `ssl.alert`), 2 with the decrypted byte count (at most 1,024 a message; `read()` only inside that callback),
//   3 writable with the TCP room less 128 (TLS overhead), only after the handshake and only above 128,
//   -1 when the peer closed, -2 for a socket error or anything the TLS session threw; after -1 or -2 the
//   socket closes itself;
// - write(): the room less 128; write(data...) throws "can't write all data" when the total does not fit,
//   otherwise copies every argument into one buffer and sends it as one record;
// - the session object in `ssl` (fake-tls-session.ts), which secure-socket.ts reaches into.
import { fakeNetwork, type FakePeer, type FakeTcpSocket, type SocketDictionary } from './fake-network';
import { FakeTlsSession } from './fake-tls-session';

export { fakeNetwork } from './fake-network';

/** SecureSocket's estimate of TLS overhead, taken off the TCP room. */
const TLS_OVERHEAD = 128;
/** Most decrypted bytes handed out in one readable message. */
const READ_CHUNK = 1024;

type Writable = string | number | ArrayBuffer | ArrayBufferView;

function asBytes(item: Writable): Uint8Array {
  if (typeof item === 'string') return new TextEncoder().encode(item);
  if (typeof item === 'number') return Uint8Array.of(item & 0xff);
  if (item instanceof ArrayBuffer) return new Uint8Array(item);
  if (ArrayBuffer.isView(item)) return new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
  throw new Error('unsupported type for write');
}

export default class SecureSocket {
  callback: (message: number, value?: number) => void = () => undefined;
  ssl: FakeTlsSession | undefined;
  sock: FakeTcpSocket | undefined;
  private readonly peer: FakePeer;
  private handshaking = true;
  private closing: number | undefined;
  /** The decrypted bytes of the current readable message, and how far `read` got. */
  private data: { bytes: Uint8Array; position: number } | undefined;

  constructor(dictionary: SocketDictionary) {
    const sock = fakeNetwork.open(dictionary);
    this.sock = sock;
    this.peer = sock.peer;
    this.ssl = new FakeTlsSession({ tls_server_name: dictionary.host, ...dictionary.secure });
    sock.callback = (message, value) => this.onSocketMessage(message, value ?? 0);
  }

  read(type?: unknown, count?: number): ArrayBuffer | string | number | undefined {
    const data = this.data;
    const left = data ? data.bytes.length - data.position : 0;
    if (type === undefined) return left;
    if (!data || left === 0) return undefined;
    const n = count === undefined ? left : Math.min(count, left);
    const out = data.bytes.slice(data.position, data.position + n);
    data.position += n;
    if (type === ArrayBuffer) return out.buffer;
    if (type === String) return new TextDecoder().decode(out);
    if (type === Number) return out[0];
    throw new Error('unsupported output type');
  }

  write(...items: Writable[]): number | void {
    const room = this.sock?.write() ?? 0;
    const available = room < TLS_OVERHEAD ? 0 : room - TLS_OVERHEAD;
    if (items.length === 0) return available;
    this.peer.writeCalls.push(items);
    const parts = items.map(asBytes);
    const needed = parts.reduce((n, part) => n + part.length, 0);
    if (needed > available) throw new Error("can't write all data");
    const record = new Uint8Array(needed);
    let at = 0;
    for (const part of parts) {
      record.set(part, at);
      at += part.length;
    }
    if (!this.ssl || !this.sock) throw new Error('write on closed socket');
    this.ssl.write(this.sock, record.buffer);
  }

  close(): void {
    this.closing ??= 0;
    this.sock?.close();
    this.ssl = undefined;
    this.sock = undefined;
  }

  private onSocketMessage(message: number, value: number): void {
    if (this.closing !== undefined) return;
    try {
      if (message === 1) {
        this.ssl?.initiateHandshake();
        this.advance(0);
      } else if (message === 2) {
        for (let available = value; available > 0 && this.closing === undefined; available = this.sock?.read() ?? 0) {
          this.advance(available);
        }
      } else if (message === 3) {
        if (this.handshaking) this.advance(0);
        else if (value > TLS_OVERHEAD) this.callback(3, value - TLS_OVERHEAD);
      } else {
        this.closing = message;
      }
    } catch {
      this.closing = -2;
    }
    if (this.closing !== undefined && this.closing !== 0) {
      const reported = this.closing;
      this.callback(reported);
      this.close();
    }
  }

  /** One step of the handshake, or the decrypted bytes of one record handed out in readable messages. */
  private advance(bytesAvailable: number): void {
    const ssl = this.ssl;
    const sock = this.sock;
    if (!ssl || !sock) return;
    if (this.handshaking) {
      if (ssl.handshake(sock, bytesAvailable)) {
        this.handshaking = false;
        this.callback(1);
      }
      return;
    }
    if (bytesAvailable <= 0) return;
    if (ssl.bytesAvailable === 0 && !ssl.read(sock)) return;
    while (this.closing === undefined && this.ssl && ssl.bytesAvailable > 0) {
      const bytes = ssl.read(sock, Math.min(ssl.bytesAvailable, READ_CHUNK));
      if (!bytes) break;
      this.data = { bytes, position: 0 };
      this.callback(2, bytes.length);
    }
    this.data = undefined;
  }
}
