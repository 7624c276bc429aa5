// The TLS session object a fake SecureSocket keeps in `ssl`, with the parts of the SDK's session
// (modules/crypt/ssl/session_original.js, ssl_cert.js) that hosts/moddable/secure-socket.ts reaches into:
// `handshake(socket, bytesAvailable)` (true once the handshake ends, by Finished or by an alert, which it records in
// `alert`), and `certificateManager` with `register(ca)` (throws "date validation failed" for a CA outside its
// dates) and `verify(chain, options)` (false for an untrusted or expired chain and for a leaf that does not name
// `tls_server_name`; the handshake then throws "certificate: auth err"). Certificates are real DER, checked with
// Node's X.509 parser. No cryptography on the wire: records are objects (fake-network.ts).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { FakeTcpSocket } from './fake-network';
import { parseCertificate } from './x509';

class TLSError extends Error {
  override name = 'TLS';
}

const ALERT_FATAL = 2;

function withinDates(cert: X509Certificate, now = Date.now()): boolean {
  return Date.parse(cert.validFrom) < now && now < Date.parse(cert.validTo);
}

function names(cert: X509Certificate, serverName: string): boolean {
  if (isIP(serverName) === 4) return cert.checkIP(serverName) !== undefined;
  return cert.checkHost(serverName, { subject: 'never', multiLabelWildcards: false }) !== undefined;
}

export class FakeCertificateManager {
  readonly #registered: X509Certificate[] = [];

  constructor(options: { certificate?: ArrayBuffer | ArrayBufferView }) {
    if (options.certificate) this.register(options.certificate);
  }

  register(cert: ArrayBuffer | ArrayBufferView): void {
    const parsed = parseCertificate(cert);
    if (!withinDates(parsed)) throw new Error('date validation failed');
    this.#registered.push(parsed);
  }

  verify(certs: Uint8Array[], options: { tls_server_name?: string }): boolean {
    const serverName = options.tls_server_name?.toLowerCase();
    if (!serverName || certs.length === 0) return false;
    const chain = certs.map((der) => parseCertificate(der));
    if (!chain.every((cert) => withinDates(cert))) return false;
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i].verify(chain[i + 1].publicKey)) return false;
    }
    const top = chain[chain.length - 1];
    const anchored = this.#registered.some((ca) => top.checkIssued(ca) && top.verify(ca.publicKey));
    return anchored && names(chain[0], serverName);
  }
}

type Stage = 'idle' | 'hello' | 'awaiting-server' | 'awaiting-finished' | 'done';

export class FakeTlsSession {
  alert: { level: number; description: number } | undefined;
  certificateManager: FakeCertificateManager | undefined;
  readonly options: Record<string, unknown> & { tls_server_name?: string };
  private stage: Stage = 'idle';
  private plain: Uint8Array | undefined;
  private position = 0;

  constructor(options: Record<string, unknown>) {
    const { serverName, ...rest } = options;
    this.options = { ...rest, ...(serverName !== undefined ? { tls_server_name: serverName as string } : {}) };
    this.certificateManager = new FakeCertificateManager(this.options as { certificate?: ArrayBuffer | ArrayBufferView });
  }

  initiateHandshake(): void {
    this.stage = 'hello';
  }

  handshake(socket: FakeTcpSocket, bytesAvailable: number): boolean {
    if (this.stage === 'hello') {
      socket.send({ kind: 'client-hello' });
      this.stage = 'awaiting-server';
      return false;
    }
    if (bytesAvailable <= 0) return false;
    const record = socket.take();
    if (!record) return false;
    switch (record.kind) {
      case 'alert':
        this.alert = { level: ALERT_FATAL, description: record.description };
        return true;
      case 'server-hello':
        if (this.stage !== 'awaiting-server') throw new TLSError('handshake: unexpected message');
        if (!this.certificateManager?.verify(record.chain, this.options)) throw new TLSError('certificate: auth err');
        socket.send({ kind: 'client-finished' });
        this.stage = 'awaiting-finished';
        return false;
      case 'server-finished':
        if (this.stage !== 'awaiting-finished') throw new TLSError('handshake: unexpected message');
        this.stage = 'done';
        this.certificateManager = undefined;
        return true;
      default:
        throw new TLSError('handshake: unexpected message');
    }
  }

  /** Decrypted bytes of the current record not yet read. */
  get bytesAvailable(): number {
    return this.plain ? this.plain.length - this.position : 0;
  }

  /** No count: decodes the next record if none is current; null when that record was an alert. */
  read(socket: FakeTcpSocket, count?: number): Uint8Array | null | undefined {
    if (!this.plain || this.position >= this.plain.length) {
      const record = socket.take();
      if (!record) return undefined;
      if (record.kind === 'alert') {
        this.alert = { level: ALERT_FATAL, description: record.description };
        return null;
      }
      if (record.kind !== 'application') throw new TLSError('record: unexpected message');
      this.plain = record.payload;
      this.position = 0;
    }
    if (count === undefined) return this.plain.subarray(this.position);
    const out = this.plain.subarray(this.position, this.position + count);
    this.position += out.length;
    if (this.position >= this.plain.length) this.plain = undefined;
    return out;
  }

  /** One application record. `data` is SecureSocket's own copy of what it was given. */
  write(socket: FakeTcpSocket, data: ArrayBuffer): void {
    socket.send({ kind: 'application', payload: new Uint8Array(data) });
  }
}
