// The one place that touches SecureSocket and the internals of Moddable's TLS session (modules/crypt/ssl).
// Why internals: SecureSocket's public surface reports any failure as "error" (-2) and takes a single trusted
// certificate, throwing at construction if that certificate is outside its dates. The session object it keeps in
// `ssl` lets us (1) register each trusted CA on this connection only, skipping ones that cannot be used,
// (2) learn what the handshake threw and whether the certificate check failed on the name, and (3) see a TLS
// alert that SecureSocket reports as "connected". Everything here is feature-checked: if a future SDK changes
// the internals, trust registration fails closed (no CA registered, so verification fails) and errors fall back
// to coarser codes. Verification itself is never disabled.
//
// Why not ECMA-419 (embedded:io/socket/tcp + a TLS IO class): its back-pressure (onWritable with a byte count)
// is what SecureSocket's "writable" message already gives, and on this SDK its TLS class is an example
// (examples/io/tcp/tlssocket), not a module the device manifests ship. SecureSocket is the supported path.
import SecureSocket from 'securesocket';
import Timer from 'timer';
import X509 from 'x509';
import { altNamesCover, type AltName } from './server-name';

export const SOCKET_ERROR = -2;
export const SOCKET_DISCONNECTED = -1;
export const SOCKET_CONNECTED = 1;
export const SOCKET_READABLE = 2;
export const SOCKET_WRITABLE = 3;

export type SocketMessage = -2 | -1 | 1 | 2 | 3;

/** What we use of a SecureSocket instance (the SDK's own typings leave out callback and write()). */
export interface SecureSocketHandle {
  callback: (message: SocketMessage, value?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer | undefined;
  write(): number;
  /** Joins the parts into one record (SecureSocket's own copy); throws if they do not all fit. */
  write(...parts: Uint8Array[]): void;
  close(): void;
}

interface CertificateManagerInternals {
  register?(cert: Uint8Array): void;
  verify?(certs: Uint8Array[], options: { tls_server_name?: string }): boolean;
}

interface SessionInternals {
  handshake?(socket: unknown, bytesAvailable: number): boolean;
  alert?: { level: number; description: number };
  certificateManager?: CertificateManagerInternals;
}

interface SecureSocketInternals {
  ssl?: SessionInternals;
  sock?: NativeSocketInternals;
}

/** The plain socket under SecureSocket (module "socket"), with the few fields lingerOnClose keeps on it. */
interface NativeSocketInternals {
  callback?: (message: number, value?: number) => void;
  close?: () => void;
  lingerRelay?: (message: number, value?: number) => void;
  lingerClose?: () => void;
  lingerInDisconnect?: boolean;
}

/** Longer than the lin socket's 20 ms service tick plus its 1 ms message delay. */
const LINGER_MS = 50;

export interface OpenOptions {
  host: string;
  port: number;
  serverName: string;
  trustedCAs: Uint8Array[];
  clientCertificates?: Uint8Array[];
  clientKey?: Uint8Array;
}

/** Callbacks from inside the TLS session, for error diagnosis. */
export interface SessionObserver {
  /** The first handshake step ran: TCP is connected. */
  onTcpConnected(): void;
  /** Handshake bytes arrived from the server. */
  onServerBytes(): void;
  /** The TLS stack threw inside the handshake (SecureSocket will report -2 next). */
  onHandshakeThrew(message: string): void;
  /** The certificate check failed; `nameCovered` says whether the leaf names the server. */
  onCertificateRejected(nameCovered: boolean): void;
}

export interface OpenedSocket {
  socket: SecureSocketHandle;
  /** How many of the trusted CAs the session accepted, and why the others were refused. */
  registered: number;
  refused: string[];
  /** The alert the session recorded, if any (SecureSocket reports an alert-ended handshake as connected). */
  alert(): number | undefined;
}

export function openSecureSocket(options: OpenOptions, observer: SessionObserver): OpenedSocket {
  const raw = new SecureSocket({
    host: options.host,
    port: options.port,
    secure: {
      protocolVersion: 0x303,
      serverName: options.serverName,
      ...(options.clientCertificates ? { clientCertificates: options.clientCertificates } : {}),
      ...(options.clientKey ? { clientKey: options.clientKey } : {}),
    },
  });
  const socket = raw as unknown as SecureSocketHandle;
  const session = (raw as unknown as SecureSocketInternals).ssl;
  lingerOnClose((raw as unknown as SecureSocketInternals).sock);
  const manager = session?.certificateManager;

  let registered = 0;
  const refused: string[] = [];
  for (const [i, ca] of options.trustedCAs.entries()) {
    if (typeof manager?.register !== 'function') {
      refused.push(`CA ${i + 1}: this SDK's TLS session cannot take trusted certificates`);
      continue;
    }
    try {
      manager.register(ca);
      registered++;
    } catch (error) {
      refused.push(`CA ${i + 1}: ${messageOf(error)}`);
    }
  }

  if (session && typeof session.handshake === 'function') {
    const handshake = session.handshake;
    let tcpSeen = false;
    // defineProperty, not assignment: preloaded prototypes are frozen, and assigning over a frozen inherited
    // method throws in strict mode.
    Object.defineProperty(session, 'handshake', {
      configurable: true,
      value(this: SessionInternals, sock: unknown, bytesAvailable: number): boolean {
        if (!tcpSeen) {
          tcpSeen = true;
          observer.onTcpConnected();
        }
        if (bytesAvailable > 0) observer.onServerBytes();
        try {
          return handshake.call(this, sock, bytesAvailable);
        } catch (error) {
          observer.onHandshakeThrew(messageOf(error));
          throw error;
        }
      },
    });
  }

  if (manager && typeof manager.verify === 'function') {
    const verify = manager.verify;
    Object.defineProperty(manager, 'verify', {
      configurable: true,
      value(this: CertificateManagerInternals, certs: Uint8Array[], verifyOptions: { tls_server_name?: string }): boolean {
        const ok = verify.call(this, certs, verifyOptions);
        if (!ok) observer.onCertificateRejected(leafNames(certs[0], options.serverName));
        return ok;
      },
    });
  }

  return { socket, registered, refused, alert: () => session?.alert?.description };
}

/**
 * The simulator's socket (modules/network/socket/lin) queues its messages without holding the socket: closed
 * while one is still queued (a readable posted during a slow TLS step, say), it is freed and the message then
 * runs on freed memory, which has closed the next socket's descriptor and crashed mcsim. So the real close waits
 * one service tick with the callback silenced, letting queued messages drain. A disconnect is the exception: the
 * native side tears the socket down itself right after that message, and expects the close inside it.
 */
function lingerOnClose(sock: NativeSocketInternals | undefined): void {
  if (!sock || typeof sock.close !== 'function' || typeof sock.callback !== 'function') return;
  // Shared functions and three fields on the socket, not closures: an ESP32-sized heap has few slots to spare.
  sock.lingerRelay = sock.callback;
  sock.lingerClose = sock.close;
  sock.lingerInDisconnect = false;
  sock.callback = relayMessage;
  Object.defineProperty(sock, 'close', { configurable: true, value: lingeringClose });
}

function relayMessage(this: NativeSocketInternals, message: number, value?: number): void {
  this.lingerInDisconnect = message === SOCKET_DISCONNECTED;
  try {
    this.lingerRelay?.(message, value);
  } finally {
    this.lingerInDisconnect = false;
  }
}

function lingeringClose(this: NativeSocketInternals): void {
  if (this.lingerInDisconnect) {
    closeNative(this);
    return;
  }
  this.lingerRelay = (message) => {
    if (message === SOCKET_DISCONNECTED) closeNative(this);
  };
  Timer.set(() => closeNative(this), LINGER_MS);
}

function closeNative(sock: NativeSocketInternals): void {
  const close = sock.lingerClose;
  sock.lingerClose = undefined;
  try {
    close?.call(sock);
  } catch {
    // The native side tore it down already.
  }
}

function leafNames(leaf: Uint8Array | undefined, serverName: string): boolean {
  if (!leaf) return false;
  try {
    return altNamesCover(X509.decodeSAN(leaf) as AltName[] | undefined, serverName);
  } catch {
    return false;
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
