// TransportFactory on Moddable's SecureSocket (TLS 1.2, the SDK's own TLS stack). Certificate verification is
// always on. Writes are queued and handed to the socket only as far as it has room, because SecureSocket throws
// when given more; "writable" messages drain the queue and raise onWritable once it is empty again.
// Opening the socket, writing and closing run on fresh promise jobs, never on the caller's stack: TLS is deep
// code and the callers are often deep chains themselves, and XS on an ESP32-C3 has a 384-slot stack.
import Timer from 'timer';
import type {
  Logger,
  TlsConnectOptions,
  Transport,
  TransportCloseReason,
  TransportError,
  TransportEvents,
  TransportFactory,
} from '../../src/ports';
import {
  messageOf,
  openSecureSocket,
  SOCKET_CONNECTED,
  SOCKET_DISCONNECTED,
  SOCKET_READABLE,
  SOCKET_WRITABLE,
  type SecureSocketHandle,
  type SocketMessage,
} from './secure-socket';
import { classifyFailure, describeAlert, type ConnectionStage, type FailureFacts } from './tls-failure';
import { WriteQueue } from './write-queue';

export interface ModdableTransportSettings {
  /** Used when a connect call gives no connectTimeoutMs. */
  defaultConnectTimeoutMs?: number;
  /**
   * Most bytes written to the socket in one turn of the run loop. The Linux simulator's socket sends
   * synchronously and throws if the kernel buffer is full, so a backlog drains over several writable messages.
   */
  writeBudgetBytes?: number;
  /** Told about trusted CAs the TLS stack refused (expired, unreadable). */
  logger?: Logger;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_WRITE_BUDGET_BYTES = 8192;

export function createModdableTransportFactory(settings: ModdableTransportSettings = {}): TransportFactory {
  return {
    connect: (options, events) => openConnection(options, events, settings),
  };
}

function openConnection(options: TlsConnectOptions, events: TransportEvents, settings: ModdableTransportSettings): Transport {
  const serverName = options.serverName ?? options.host;
  const target = `${options.host}:${options.port}`;
  const budget = settings.writeBudgetBytes ?? DEFAULT_WRITE_BUDGET_BYTES;
  const queue = new WriteQueue();

  let stage: ConnectionStage = 'connecting';
  let socket: SecureSocketHandle | undefined;
  let alertOf: () => number | undefined = () => undefined;
  let thrown: string | undefined;
  let serverSpoke = false;
  let certificate: FailureFacts['certificate'];
  let finished = false;
  let wantWritable = false;
  let connectTimer: Timer | undefined;

  /** Stops the timer, drops what is queued and closes the socket; the callers decide when onClose runs. */
  const tearDown = (): void => {
    finished = true;
    Timer.clear(connectTimer);
    connectTimer = undefined;
    queue.clear();
    const closing = socket;
    socket = undefined;
    try {
      closing?.close();
    } catch {
      // Already closed by SecureSocket itself (after reporting a failure), or gone.
    }
  };

  const finish = (reason: TransportCloseReason, error?: TransportError): void => {
    if (finished) return;
    tearDown();
    if (error) events.onError(error);
    events.onClose(reason);
  };

  const fail = (error: TransportError): void => finish({ by: 'error', code: error.code, message: error.message }, error);

  // Runs our callbacks into the application; a throwing handler closes this connection instead of
  // unwinding into SecureSocket, which would report it as a socket error.
  const guarded = (what: string, run: () => void): void => {
    try {
      run();
    } catch (error) {
      fail({ code: 'other', message: `${what} handler threw: ${messageOf(error)}` });
    }
  };

  const flush = (): void => {
    const open = socket;
    if (!open || stage !== 'secured') return;
    try {
      queue.drain(
        () => open.write(),
        (parts) => open.write(...parts),
        budget,
      );
    } catch (error) {
      fail({ code: 'reset', message: `writing to ${target} failed: ${messageOf(error)}` });
      return;
    }
    if (queue.size === 0 && wantWritable && !finished) {
      wantWritable = false;
      guarded('onWritable', () => events.onWritable());
    }
  };

  // TLS encrypts inside SecureSocket.write, a deep call; done from a fresh promise job it starts from the bottom of
  // the XS stack instead of from whatever depth the application wrote at, so a 384-slot stack is enough.
  let flushQueued = false;
  /** close() was called; the socket closes on the next job. */
  let closing = false;
  const flushSoon = (): void => {
    if (flushQueued) return;
    flushQueued = true;
    void Promise.resolve().then(() => {
      flushQueued = false;
      if (!finished && !closing) flush();
    });
  };

  const failed = (socketMessage: -1 | -2): void => {
    const error = classifyFailure({ stage, serverSpoke, socketMessage, thrown, certificate, alert: alertOf(), target, serverName });
    if (error) fail(error);
    else finish({ by: 'peer', message: `${target} closed the connection` });
  };

  const onMessage = (message: SocketMessage): void => {
    if (finished || closing) return;
    switch (message) {
      case SOCKET_CONNECTED: {
        const alert = alertOf();
        if (alert !== undefined) {
          // SecureSocket ends a handshake on an alert and calls that "connected".
          fail({ code: 'tls-handshake', message: `TLS handshake with ${target} failed: ${describeAlert(alert)}` });
          return;
        }
        stage = 'secured';
        Timer.clear(connectTimer);
        connectTimer = undefined;
        guarded('onConnect', () => events.onConnect());
        // SecureSocket says "connected" from deep inside its handshake code: write from a fresh job instead.
        flushSoon();
        return;
      }
      case SOCKET_READABLE: {
        const open = socket;
        const data = open?.read(ArrayBuffer);
        if (data && data.byteLength > 0) guarded('onData', () => events.onData(new Uint8Array(data)));
        return;
      }
      case SOCKET_WRITABLE:
        flush();
        return;
      case SOCKET_DISCONNECTED:
        failed(-1);
        return;
      default:
        failed(-2);
    }
  };

  // Failures while setting up are reported on the next turn, so the caller holds its Transport first.
  const failSoon = (error: TransportError): void => {
    Timer.set(() => fail(error));
  };

  const open = (): void => {
    try {
      const opened = openSecureSocket(
        {
          host: options.host,
          port: options.port,
          serverName,
          trustedCAs: options.trustedCAs,
          clientCertificates: options.clientCertificates,
          clientKey: options.clientKey,
        },
        {
          onTcpConnected: () => {
            if (stage === 'connecting') stage = 'handshaking';
          },
          onServerBytes: () => {
            serverSpoke = true;
          },
          onHandshakeThrew: (message) => {
            thrown ??= message;
          },
          onCertificateRejected: (nameCovered) => {
            certificate = nameCovered ? 'untrusted' : 'name-mismatch';
          },
        },
      );
      socket = opened.socket;
      alertOf = opened.alert;
      socket.callback = onMessage;
      for (const reason of opened.refused) settings.logger?.log('warn', `tls: trusted CA not used for ${target}: ${reason}`);
      if (opened.registered === 0) {
        failSoon({
          code: 'tls-verify',
          message: `no usable trusted CA for ${target}${opened.refused.length ? ` (${opened.refused.join('; ')})` : ' (none given)'}`,
        });
      }
    } catch (error) {
      failSoon({ code: 'other', message: `cannot open a TLS socket to ${target}: ${messageOf(error)}` });
    }
  };
  // Opening a SecureSocket (its TLS session, one certificate parse per trusted CA) takes about 110 XS stack slots;
  // done from a fresh promise job it starts at the bottom of the stack, not at the depth of whatever chain asked
  // to connect (a DPS answer handing over to the hub, a renewal's disconnect), so a 384-slot stack is enough.
  void Promise.resolve().then(() => {
    if (!finished && !closing) open();
  });

  const timeoutMs = options.connectTimeoutMs ?? settings.defaultConnectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!finished) {
    connectTimer = Timer.set(() => {
      connectTimer = undefined;
      if (stage === 'secured') return;
      const during = stage === 'connecting' ? 'no TCP connection (name did not resolve, or nothing answered)' : 'TLS handshake not finished';
      fail({ code: 'timeout', message: `connecting to ${target} timed out after ${timeoutMs} ms: ${during}` });
    }, timeoutMs);
  }

  return {
    write(bytes) {
      if (finished || closing) return false;
      queue.push(bytes);
      flushSoon();
      if (stage === 'secured' && queue.size <= budget) return true;
      wantWritable = true;
      return false;
    },
    close() {
      if (finished || closing) return;
      closing = true;
      // From a fresh job, like every write: whatever still fits goes out first (an MQTT DISCONNECT written just
      // before close, say), then the socket closes; onClose follows on the next turn, never inside close().
      void Promise.resolve().then(() => {
        if (finished) return;
        if (stage === 'secured' && socket) {
          try {
            queue.drain(() => socket?.write() ?? 0, (parts) => socket?.write(...parts), budget);
          } catch {
            // Closing anyway.
          }
        }
        tearDown();
        Timer.set(() => guarded('onClose', () => events.onClose({ by: 'local', message: 'closed by the application' })));
      });
    },
  };
}
