// TransportFactory on node:tls. Certificate verification is always on: there is deliberately no option to turn
// it off, so a misconfigured device fails loudly instead of talking to anyone who answers.
import { connect as tlsConnect, checkServerIdentity, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type {
  TlsConnectOptions,
  Transport,
  TransportCloseReason,
  TransportError,
  TransportEvents,
  TransportFactory,
} from '../../src/ports';
import { derToPem } from './pem';
import { mapNodeTransportError } from './tls-error-map';

export interface NodeTlsTransportSettings {
  /** Used when a connect call gives no connectTimeoutMs. */
  defaultConnectTimeoutMs?: number;
  /** After close(), how long to let queued bytes drain before the socket is torn down regardless. */
  closeGraceMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_CLOSE_GRACE_MS = 2_000;

export function createNodeTlsTransportFactory(settings: NodeTlsTransportSettings = {}): TransportFactory {
  const connectTimeoutMs = settings.defaultConnectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const closeGraceMs = settings.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  return {
    connect: (options, events) =>
      openTlsConnection(options, events, options.connectTimeoutMs ?? connectTimeoutMs, closeGraceMs),
  };
}

function openTlsConnection(
  options: TlsConnectOptions,
  events: TransportEvents,
  connectTimeoutMs: number,
  closeGraceMs: number,
): Transport {
  const serverName = options.serverName ?? options.host;
  const target = `${options.host}:${options.port}`;
  let socket: TLSSocket | undefined;
  let secured = false;
  let closedLocally = false;
  let finished = false;
  let failure: TransportError | undefined;
  let connectTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  const clearTimers = (): void => {
    if (connectTimer !== undefined) clearTimeout(connectTimer);
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    connectTimer = graceTimer = undefined;
  };

  // Only the first failure is reported, and none once the caller has asked to close: onError then onClose, once.
  const fail = (error: TransportError): void => {
    if (failure || closedLocally || finished) return;
    failure = error;
    socket?.destroy();
    events.onError(error);
  };

  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimers();
    let reason: TransportCloseReason;
    if (failure) reason = { by: 'error', code: failure.code, message: failure.message };
    else if (closedLocally) reason = { by: 'local', message: 'connection closed by this device' };
    else reason = { by: 'peer', message: `${target} closed the connection` };
    events.onClose(reason);
  };

  try {
    socket = tlsConnect({
      host: options.host,
      port: options.port,
      // Node refuses SNI for IP literals; the identity check below still uses the name.
      servername: isIP(serverName) === 0 ? serverName : undefined,
      ca: options.trustedCAs.map((der) => derToPem(der, 'CERTIFICATE')),
      cert: options.clientCertificates?.map((der) => derToPem(der, 'CERTIFICATE')).join(''),
      key: options.clientKey ? derToPem(options.clientKey, 'PRIVATE KEY') : undefined,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, certificate) => checkServerIdentity(serverName, certificate),
      minVersion: 'TLSv1.2',
    });
  } catch (error) {
    // Bad settings (a key that does not parse, a port out of range) surface after connect() returns, like any failure.
    const reason = mapNodeTransportError(error, { target, serverName, secured: false });
    setImmediate(() => {
      if (!closedLocally) {
        failure = { code: 'other', message: `cannot start a TLS connection to ${target}: ${reason.message}` };
        events.onError(failure);
      }
      finish();
    });
    return { write: () => false, close: () => void (closedLocally = true) };
  }

  const tls = socket;
  connectTimer = setTimeout(() => {
    fail({ code: 'timeout', message: `no TLS connection to ${target} after ${connectTimeoutMs} ms` });
  }, connectTimeoutMs);

  tls.on('secureConnect', () => {
    if (connectTimer !== undefined) clearTimeout(connectTimer);
    connectTimer = undefined;
    if (closedLocally || failure) return;
    secured = true;
    events.onConnect();
  });
  tls.on('data', (chunk: Buffer) => {
    // A plain copy: the core gets an ordinary Uint8Array, never a Buffer tied to Node's memory.
    if (!closedLocally && !failure) events.onData(new Uint8Array(chunk));
  });
  tls.on('drain', () => {
    if (!closedLocally && !failure && !finished) events.onWritable();
  });
  tls.on('error', (error) => fail(mapNodeTransportError(error, { target, serverName, secured })));
  tls.on('close', finish);

  return {
    write(bytes: Uint8Array): boolean {
      if (closedLocally || failure || finished) return false;
      // A Buffer view of the caller's bytes, not a copy: Node may hold it until flushed, and the port's write()
      // contract says the caller never changes them.
      return tls.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    close(): void {
      if (closedLocally || finished) return;
      closedLocally = true;
      if (!secured || failure) {
        tls.destroy();
        return;
      }
      tls.end();
      graceTimer = setTimeout(() => tls.destroy(), closeGraceMs);
    },
  };
}
