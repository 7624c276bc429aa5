// The host ports: everything the firmware core needs from the machine it runs on.
// src/ talks to the world only through these; hosts/moddable, hosts/node and hosts/xsnap implement them.
// All of them are synchronous or callback-driven so the core runs on one event loop with nothing blocking.

/** Why a transport closed. `by` says who ended it; `code` classifies failures so callers can pick a retry policy. */
export interface TransportCloseReason {
  by: 'local' | 'peer' | 'error';
  code?: TransportErrorCode;
  message: string;
}

export type TransportErrorCode =
  | 'dns' // name did not resolve
  | 'refused' // nothing listening / connection refused
  | 'timeout' // TCP or TLS handshake took too long
  | 'tls-verify' // server certificate not trusted (wrong CA, expired, not yet valid)
  | 'tls-hostname' // certificate does not match the server name
  | 'tls-handshake' // any other TLS failure (protocol, cipher, client certificate refused)
  | 'reset' // connection reset or broken pipe
  | 'other';

export interface TransportError {
  code: TransportErrorCode;
  message: string;
}

export interface TlsConnectOptions {
  host: string;
  port: number;
  /** SNI and the name the certificate is checked against; defaults to `host`. */
  serverName?: string;
  /** Trusted root certificates, DER. Verification is never turned off. */
  trustedCAs: Uint8Array[];
  /** Client certificate chain, DER, leaf first (X.509 authentication). */
  clientCertificates?: Uint8Array[];
  /** Client private key, DER (PKCS#8). */
  clientKey?: Uint8Array;
  /** Give up on TCP + TLS set-up after this long. */
  connectTimeoutMs?: number;
  /**
   * The client credential is held by a cellular modem under this security tag (nRF `sec_tag`), not in JS:
   * `clientKey` is then absent and only a modem transport can open the connection.
   */
  secTag?: number;
}

/** A listener may be a class instance: wrappers pass each event on by name rather than spreading the object. */
export interface TransportEvents {
  /** TLS handshake done, certificate verified. */
  onConnect(): void;
  onData(chunk: Uint8Array): void;
  /** The write buffer drained after `write` returned false. */
  onWritable(): void;
  /** Called before onClose when the close is caused by a failure. */
  onError(error: TransportError): void;
  /** Called exactly once per connection, whatever ended it. */
  onClose(reason: TransportCloseReason): void;
}

export interface Transport {
  /**
   * Queues bytes. Returns false when the host buffer is full: stop writing until onWritable.
   * Ownership passes with the call: the transport may keep `bytes` (or views of them) until they are written,
   * and the caller never changes them afterwards, so no host makes a copy of its own.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Ends the connection after flushing bytes already accepted by `write` (an MQTT DISCONNECT written just
   * before must reach the peer); onClose follows with `by: 'local'`. Safe to call twice.
   */
  close(): void;
}

export interface TransportFactory {
  connect(options: TlsConnectOptions, events: TransportEvents): Transport;
}

/** A UART (or a stand-in for one): bytes both ways, no framing. */
export interface SerialPortEvents {
  onData(chunk: Uint8Array): void;
  /** The port went away (device unplugged, peer closed): no more data either way. */
  onClose(message: string): void;
}

export interface SerialPort {
  /** Queues bytes; false when the host buffer is full (the bytes are still taken). */
  write(bytes: Uint8Array): boolean;
  close(): void;
}

export interface SerialPortFactory {
  open(events: SerialPortEvents): SerialPort;
}

export type TimerHandle = object | number;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Monotonic milliseconds; only differences mean anything. */
  now(): number;
}

export interface WallClock {
  /** Unix time in milliseconds, or undefined while the clock has not been set (no SNTP yet). */
  unixMs(): number | undefined;
}

export interface CryptoPort {
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  randomBytes(length: number): Uint8Array;
}

/**
 * Persistent key-value storage (flash on boards). `set` replaces the whole value in one operation:
 * after a power cut a key holds its old value or its new one, never a mix.
 */
export interface KeyValueStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
  keys(): string[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string): void;
}

/** Everything a host gives the core. */
export interface HostPorts {
  transport: TransportFactory;
  timers: Timers;
  clock: WallClock;
  crypto: CryptoPort;
  store: KeyValueStore;
  logger: Logger;
}
