// MQTT over WebSockets as a Transport: the RFC 6455 client (ws-handshake.ts, ws-frames.ts) over any TLS
// Transport, so the MQTT session above is unchanged and every host (Node, XS, Moddable's SecureSocket) gets it from
// its own TLS port. `onConnect` is told once the upgrade answer checked out; each write is one masked binary frame;
// Pings are answered; a Close from the server is answered and reported as the peer's close; a protocol breach is
// answered with the Close code it deserves and reported as an error. Azure IoT Hub and DPS serve
// `wss://{host}/$iothub/websocket` with the subprotocol `mqtt` on port 443.

import { base64Encode } from '../encoding/base64';
import { DEFAULT_MAX_PACKET_SIZE } from '../mqtt/stream-parser';
import type { TlsConnectOptions, Transport, TransportCloseReason, TransportError, TransportEvents, TransportFactory } from '../ports';
import { edgeTable, StateMachine } from '../state-machine';
import { CLOSE_NORMAL, CLOSE_PROTOCOL, closePayload, encodeClientFrame, FrameReader, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, readClose, type FrameSink } from './ws-frames';
import { checkUpgradeAnswer, headerEnd, upgradeRequest } from './ws-handshake';

export const IOTHUB_WS_PATH = '/$iothub/websocket';
export const IOTHUB_WS_PORT = 443;

export interface WebSocketOptions {
  /** Default `/$iothub/websocket`. */
  path?: string;
  /** Default `mqtt`. */
  protocol?: string;
  /**
   * Largest frame accepted from the server; a larger one is refused from its header (close 1009). Default: the
   * hub's largest MQTT packet. Payload bytes stream through to the MQTT parser, which holds the device's own packet
   * budget (a PUBLISH over it is skipped, not buffered), so this bound costs no memory.
   */
  maxFrameBytes?: number;
  /** Largest upgrade answer header held while it arrives. Default 2048. */
  maxHandshakeBytes?: number;
}

/** Random bytes drawn at a time for masks: 16 frames' worth. */
const MASK_BLOCK = 64;

type WsState = 'connecting' | 'upgrading' | 'open' | 'closing' | 'closed';

const WS_MOVES = edgeTable<WsState>({
  connecting: ['upgrading', 'closing', 'closed'],
  upgrading: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
});

/** A TransportFactory that speaks MQTT over WebSockets over `tls`; `randomBytes` gives the key and the masks. */
export function webSocketTransport(tls: TransportFactory, randomBytes: (length: number) => Uint8Array, options: WebSocketOptions = {}): TransportFactory {
  return { connect: (tlsOptions, events) => new WsConnection(tls, tlsOptions, events, randomBytes, options) };
}

/**
 * One WebSocket connection. It is its own TLS listener and its own frame sink (methods, not closures: every
 * closure and object is a slot on a device heap).
 */
class WsConnection implements Transport, TransportEvents, FrameSink {
  private readonly machine = new StateMachine(WS_MOVES, 'connecting' as WsState, { name: 'ws' });
  private readonly key: string;
  private readonly protocol: string;
  private readonly maxHandshake: number;
  private readonly reader: FrameReader;
  private readonly inner: Transport;
  private readonly host: string;
  private readonly port: number;
  private readonly path: string;
  /** The upgrade request, when TLS came up inside connect() itself (before `inner` was set). */
  private early: Uint8Array | undefined;
  private answer: Uint8Array | undefined;
  private answerLength = 0;
  private masks: Uint8Array | undefined;
  private maskAt = 0;
  /** What ends up in onClose when this side decided how the connection ended. */
  private reason: TransportCloseReason | undefined;

  constructor(
    tls: TransportFactory,
    options: TlsConnectOptions,
    private readonly events: TransportEvents,
    private readonly randomBytes: (length: number) => Uint8Array,
    ws: WebSocketOptions,
  ) {
    this.key = base64Encode(randomBytes(16));
    this.protocol = ws.protocol ?? 'mqtt';
    this.maxHandshake = ws.maxHandshakeBytes ?? 2048;
    this.path = ws.path ?? IOTHUB_WS_PATH;
    this.host = options.serverName ?? options.host;
    this.port = options.port;
    this.reader = new FrameReader(this, ws.maxFrameBytes ?? DEFAULT_MAX_PACKET_SIZE);
    this.inner = tls.connect(options, this);
    if (this.early !== undefined && this.machine.state === 'upgrading') this.inner.write(this.early);
    this.early = undefined;
  }

  // ---- Transport (the MQTT session's side) ----

  write(bytes: Uint8Array): boolean {
    if (this.machine.state !== 'open') return false;
    return this.inner.write(this.frame(OP_BINARY, bytes));
  }

  close(): void {
    const state = this.machine.state;
    if (state === 'closing' || state === 'closed') return;
    if (state === 'open') this.inner.write(this.frame(OP_CLOSE, closePayload(CLOSE_NORMAL)));
    this.machine.move('closing');
    this.inner.close();
  }

  // ---- TransportEvents (the TLS transport's side) ----

  onConnect(): void {
    if (this.machine.state !== 'connecting') return;
    this.machine.move('upgrading');
    const request = upgradeRequest({ host: this.host, port: this.port, path: this.path, key: this.key, protocol: this.protocol });
    if (this.inner === undefined) this.early = request;
    else this.inner.write(request);
  }

  onWritable(): void {
    if (this.machine.state === 'open') this.events.onWritable();
  }

  onError(error: TransportError): void {
    if (this.reason === undefined) this.events.onError(error);
  }

  onClose(reason: TransportCloseReason): void {
    if (this.machine.state === 'closed') return;
    this.machine.move('closed');
    this.events.onClose(this.reason ?? reason);
  }

  // ---- FrameSink (the frame reader's side) ----

  frameData(chunk: Uint8Array): void {
    this.events.onData(chunk);
  }

  frameFail(code: number, message: string): void {
    this.fail(message, code);
  }

  /** A masked frame with a fresh 4-byte mask, drawn from one random block at a time (fewer allocations). */
  private frame(opcode: number, payload: Uint8Array): Uint8Array {
    if (this.masks === undefined || this.maskAt + 4 > this.masks.length) {
      this.masks = this.randomBytes(MASK_BLOCK);
      this.maskAt = 0;
    }
    const at = this.maskAt;
    this.maskAt += 4;
    return encodeClientFrame(opcode, payload, this.masks, true, at);
  }

  onData(chunk: Uint8Array): void {
    const state = this.machine.state;
    if (state === 'open') {
      this.reader.push(chunk);
      return;
    }
    if (state !== 'upgrading') return;
    // The upgrade answer: held (bounded) until CRLF CRLF, then checked; what follows it is frames already.
    const have = this.answerLength;
    const room = this.maxHandshake - have;
    const take = Math.min(room, chunk.length);
    const buffer = this.answer ?? (this.answer = new Uint8Array(this.maxHandshake));
    buffer.set(chunk.subarray(0, take), have);
    this.answerLength = have + take;
    const end = headerEnd(buffer, this.answerLength);
    if (end < 0) {
      if (this.answerLength >= this.maxHandshake) this.fail(`upgrade answer over ${this.maxHandshake} bytes`);
      return;
    }
    const checked = checkUpgradeAnswer(buffer.subarray(0, end), this.key, this.protocol);
    this.answer = undefined;
    if (!checked.ok) {
      this.fail(checked.error);
      return;
    }
    this.machine.move('open');
    this.events.onConnect();
    const rest = chunk.subarray(end - have);
    if (rest.length > 0 && this.machine.state === 'open') this.reader.push(rest);
  }

  frameControl(opcode: number, payload: Uint8Array): void {
    if (opcode === OP_PING) {
      this.inner.write(this.frame(OP_PONG, payload));
      return;
    }
    if (opcode === OP_PONG) return;
    // Close: answer with the same code (section 5.5.1), then end the TCP/TLS connection.
    const close = readClose(payload);
    const code = 'code' in close ? close.code : undefined;
    if (this.machine.state === 'open') {
      this.inner.write(this.frame(OP_CLOSE, code === undefined ? new Uint8Array(0) : payload.subarray(0, 2)));
      this.reason = { by: 'peer', message: `websocket closed by the server${code === undefined ? '' : ` (code ${code})`}` };
      this.machine.move('closing');
      this.inner.close();
    }
  }

  /** The server broke the handshake or the framing: say why (Close frame when open), report, end. */
  private fail(message: string, closeCode = CLOSE_PROTOCOL): void {
    const state = this.machine.state;
    if (state === 'closing' || state === 'closed') return;
    const error: TransportError = { code: 'other', message: `websocket: ${message}` };
    if (state === 'open') this.inner.write(this.frame(OP_CLOSE, closePayload(closeCode)));
    this.reason = { by: 'error', code: error.code, message: error.message };
    this.machine.move('closing');
    this.events.onError(error);
    this.inner.close();
  }
}
