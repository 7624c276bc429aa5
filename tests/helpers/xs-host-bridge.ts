// Node side of the bridge (protocol in hosts/xsnap/bridge-protocol.ts): answers XS's requests with real
// Node ports (or virtual ones), and turns what those ports report (timer due, bytes arrived, socket closed)
// into events delivered to XS one at a time, never while XS is blocked on a request.
import type { HostPorts, TimerHandle, Transport } from '../../src/ports';
import {
  decodeBridgeMessage,
  encodeBridgeMessage,
  type BridgeValue,
  type XsEvent,
  type XsEventReply,
  type XsRequest,
} from '../../hosts/xsnap/bridge-protocol';

/** Where events for XS go: an XsnapDriver, or a loopback when the XS-side host runs in Node. */
export interface XsCommandSink {
  command(bytes: Uint8Array): Promise<{ reply: Uint8Array }>;
}

export type AppRequestHandler = (name: string, data: BridgeValue | undefined) => BridgeValue | undefined | void;

export interface XsHostBridgeOptions {
  ports: HostPorts;
  /** Answers XS's `notify(name, data)`. */
  onApp?: AppRequestHandler;
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Delivers one event to XS and returns what its handler answered; rejects if XS reports an error. */
export async function sendXsEvent(sink: XsCommandSink, event: XsEvent): Promise<BridgeValue | undefined> {
  const { reply } = await sink.command(encodeBridgeMessage(event));
  const decoded = decodeBridgeMessage<XsEventReply>(reply);
  if (decoded.error !== undefined) {
    throw new Error(`XS could not handle ${event.op === 'app' ? `app "${event.name}"` : event.op}: ${decoded.error}`);
  }
  return decoded.data;
}

/** Calls a handler XS registered with `host.onApp(name, ...)`, for programs that need no host ports. */
export function callXsApp(sink: XsCommandSink, name: string, data?: BridgeValue): Promise<BridgeValue | undefined> {
  return sendXsEvent(sink, { op: 'app', name, data });
}

export class XsHostBridge {
  private readonly timers = new Map<number, TimerHandle>();
  private readonly connections = new Map<number, Transport>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures: Error[] = [];
  /** Every request op XS made, in order: lets tests see how chatty the firmware is with its host. */
  readonly requestLog: XsRequest['op'][] = [];

  constructor(
    private readonly sink: XsCommandSink,
    private readonly options: XsHostBridgeOptions,
  ) {}

  /** Give this to the driver (`onRequest`): XS is blocked until it returns, so it never waits on anything. */
  readonly handleRequest = (bytes: Uint8Array): Uint8Array => {
    try {
      const request = decodeBridgeMessage<XsRequest>(bytes);
      this.requestLog.push(request.op);
      return encodeBridgeMessage(this.serve(request));
    } catch (error) {
      return encodeBridgeMessage({ error: describeError(error) });
    }
  };

  /** Delivers an event to XS and returns what its handler answered; rejects if XS reports an error. */
  send(event: XsEvent): Promise<BridgeValue | undefined> {
    return sendXsEvent(this.sink, event);
  }

  /** Calls a handler XS registered with `host.onApp(name, ...)`. */
  app(name: string, data?: BridgeValue): Promise<BridgeValue | undefined> {
    return callXsApp(this.sink, name, data);
  }

  /** Fire-and-forget delivery for what the ports report; failures surface from `idle()`. */
  post(event: XsEvent): void {
    const delivery = this.send(event).then(
      () => undefined,
      (error: unknown) => void this.failures.push(error instanceof Error ? error : new Error(String(error))),
    );
    this.inFlight.add(delivery);
    void delivery.then(() => this.inFlight.delete(delivery));
  }

  /** Waits until every posted event, and any they caused, has reached XS. Throws the first delivery failure. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    const failure = this.failures.shift();
    if (failure) throw failure;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  get armedTimers(): number {
    return this.timers.size;
  }

  /** Cancels XS's timers and closes the sockets it left open, so nothing outlives the test. */
  shutdown(): void {
    for (const handle of this.timers.values()) this.options.ports.timers.clearTimeout(handle);
    this.timers.clear();
    for (const transport of [...this.connections.values()]) transport.close();
  }

  private serve(request: XsRequest): object {
    const { ports } = this.options;
    switch (request.op) {
      case 'now':
        return { ms: ports.timers.now() };
      case 'unix-ms':
        return { ms: ports.clock.unixMs() };
      case 'timer-arm': {
        const { timer } = request;
        const handle = ports.timers.setTimeout(() => {
          this.timers.delete(timer);
          this.post({ op: 'timer-fire', timer });
        }, request.ms);
        this.timers.set(timer, handle);
        return { ok: true };
      }
      case 'timer-cancel': {
        const handle = this.timers.get(request.timer);
        if (handle !== undefined) ports.timers.clearTimeout(handle);
        this.timers.delete(request.timer);
        return { ok: true };
      }
      case 'connect':
        this.connect(request.conn, request.options);
        return { ok: true };
      case 'write': {
        const transport = this.connections.get(request.conn);
        return { accepted: transport ? transport.write(request.bytes) : false };
      }
      case 'close':
        this.connections.get(request.conn)?.close();
        return { ok: true };
      case 'hmac-sha256':
        return { bytes: ports.crypto.hmacSha256(request.key, request.data) };
      case 'random-bytes':
        return { bytes: ports.crypto.randomBytes(request.length) };
      case 'log':
        ports.logger.log(request.level, request.message);
        return { ok: true };
      case 'store-get':
        return { value: ports.store.get(request.key) };
      case 'store-set':
        ports.store.set(request.key, request.value);
        return { ok: true };
      case 'store-delete':
        ports.store.delete(request.key);
        return { ok: true };
      case 'store-keys':
        return { keys: ports.store.keys() };
      case 'app':
        return { data: this.options.onApp?.(request.name, request.data) ?? undefined };
      default:
        throw new Error(`unknown request "${String((request as { op?: unknown }).op)}"`);
    }
  }

  private connect(conn: number, options: Extract<XsRequest, { op: 'connect' }>['options']): void {
    let closed = false;
    const transport = this.options.ports.transport.connect(options, {
      onConnect: () => this.post({ op: 'transport-connect', conn }),
      onData: (bytes) => this.post({ op: 'transport-data', conn, bytes }),
      onWritable: () => this.post({ op: 'transport-writable', conn }),
      onError: (error) => this.post({ op: 'transport-error', conn, error }),
      onClose: (reason) => {
        closed = true;
        this.connections.delete(conn);
        this.post({ op: 'transport-close', conn, reason });
      },
    });
    if (!closed) this.connections.set(conn, transport);
  }
}
