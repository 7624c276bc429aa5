// A small HTTP/1.1 client for one job: fetching byte ranges of a file over TLS through the transport port, with the
// same trust list as the hub connection. One connection is kept alive for successive ranges and reopened when the
// server closes it. Bodies are handed to the caller chunk by chunk as they arrive and never gathered here.
// It follows no redirect (a 3xx is an error: an image never moves to plain HTTP behind the device's back), needs
// Content-Length and Content-Range to match the range asked for exactly, and names every failure with the cause
// the failure policy (src/failure/failure-policy.ts) decides on.

import type { FotaFailureCause, SharedFailureCause } from '../failure/failure-policy';
import { statusCause } from '../failure/failure-policy';
import type { TimerHandle, Timers, Transport, TransportErrorCode, TransportFactory } from '../ports';
import { utf8Encode } from '../encoding/utf8';
import { err, ok, type Result } from '../result';
import { HttpHeadReader } from './http-head';

export type HttpErrorCode =
  /** DNS, refused, reset, timeouts, a connection closed before the response began. */
  | 'network'
  /** TLS refused the server (certificate, name) or the handshake failed. */
  | 'tls'
  /** The server answered with a status other than 206. */
  | 'status'
  /** The server answered with a redirect; none is followed. */
  | 'redirect'
  /** The head broke HTTP or did not match the range asked for. */
  | 'bad-response'
  /** The connection ended inside the body. */
  | 'short-read'
  /** The file is shorter than the range asked for (416, or a Content-Range total below it). */
  | 'short-file';

export interface HttpError {
  code: HttpErrorCode;
  /** What the failure policy decides on. */
  cause: SharedFailureCause | FotaFailureCause;
  status?: number;
  message: string;
}

export interface RangeRequest {
  host: string;
  port: number;
  path: string;
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
}

export interface RangeCallbacks {
  /** Body bytes as they arrive, in order; the chunk is a view valid only during the call. */
  body(chunk: Uint8Array): void;
  /** Once: ok with the file's total size from Content-Range, or the failure. */
  done(result: Result<number, HttpError>): void;
}

export interface HttpsClientOptions {
  transport: TransportFactory;
  timers: Timers;
  trustedCAs: Uint8Array[];
  /** Largest response head kept (status line and headers). Default 2048. */
  maxHeadBytes?: number;
  connectTimeoutMs?: number;
  /** No bytes for this long while waiting: the connection is dropped as a network failure. Default 30 s. */
  idleTimeoutMs?: number;
  userAgent?: string;
}

const TLS_CAUSE: Partial<Record<TransportErrorCode, SharedFailureCause>> = {
  'tls-verify': 'tls-verify',
  'tls-hostname': 'tls-hostname',
  'tls-handshake': 'tls-handshake',
};

interface Exchange {
  request: RangeRequest;
  callbacks: RangeCallbacks;
  reader: HttpHeadReader | undefined;
  remaining: number;
  total: number;
  closeAfter: boolean;
  headSeen: boolean;
}

export class HttpsClient {
  private socket: Transport | undefined;
  private socketKey = '';
  private connected = false;
  private exchange: Exchange | undefined;
  private idle: TimerHandle | undefined;

  constructor(private readonly options: HttpsClientOptions) {}

  /** GETs bytes [start, end) of host:port/path. One range at a time. */
  getRange(request: RangeRequest, callbacks: RangeCallbacks): void {
    if (this.exchange !== undefined) throw new Error('http: one range at a time');
    this.exchange = {
      request,
      callbacks,
      reader: new HttpHeadReader(this.options.maxHeadBytes ?? 2048),
      remaining: request.end - request.start,
      total: 0,
      closeAfter: false,
      headSeen: false,
    };
    const key = `${request.host}:${request.port}`;
    if (this.socket !== undefined && this.socketKey !== key) this.drop();
    if (this.socket === undefined) this.open(request, key);
    else if (this.connected) this.send();
    this.armIdle();
  }

  /** Ends the connection; a range in progress ends with a network failure. */
  close(): void {
    this.drop();
    this.finish(err({ code: 'network', cause: 'network', message: 'http: closed' }));
  }

  private open(request: RangeRequest, key: string): void {
    this.socketKey = key;
    this.connected = false;
    let socket: Transport | undefined;
    const mine = (): boolean => this.socket === socket;
    socket = this.options.transport.connect(
      {
        host: request.host,
        port: request.port,
        trustedCAs: this.options.trustedCAs,
        ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
      },
      {
        onConnect: () => {
          if (!mine()) return;
          this.connected = true;
          if (this.exchange !== undefined) this.send();
        },
        onData: (chunk) => {
          if (mine()) this.onData(chunk);
        },
        onWritable: () => undefined,
        onError: () => undefined,
        onClose: (reason) => {
          if (!mine()) return;
          this.socket = undefined;
          this.connected = false;
          const tls = reason.code === undefined ? undefined : TLS_CAUSE[reason.code];
          const exchange = this.exchange;
          if (exchange === undefined) return;
          if (tls !== undefined) this.finish(err({ code: 'tls', cause: tls, message: `http: ${reason.message}` }));
          else if (exchange.headSeen) {
            this.finish(err({ code: 'short-read', cause: 'http-short-read', message: `http: connection ended with ${exchange.remaining} body bytes to come` }));
          } else this.finish(err({ code: 'network', cause: 'network', message: `http: ${reason.message}` }));
        },
      },
    );
    this.socket = socket;
  }

  private send(): void {
    const { request } = this.exchange!;
    const port = request.port === 443 ? '' : `:${request.port}`;
    const text =
      `GET ${request.path} HTTP/1.1\r\nHost: ${request.host}${port}\r\nRange: bytes=${request.start}-${request.end - 1}\r\n` +
      `User-Agent: ${this.options.userAgent ?? 'azure-iot-xs'}\r\nConnection: keep-alive\r\n\r\n`;
    this.socket!.write(utf8Encode(text));
  }

  private onData(chunk: Uint8Array): void {
    const exchange = this.exchange;
    if (exchange === undefined) {
      // Bytes nobody asked for: the connection is out of step; start afresh next time.
      this.drop();
      return;
    }
    this.armIdle();
    let body = chunk;
    if (exchange.reader !== undefined) {
      const step = exchange.reader.push(chunk);
      if (!step.ok) return this.fail('bad-response', 'protocol', `http: ${step.error}`);
      if (step.value === undefined) return;
      exchange.reader = undefined;
      exchange.headSeen = true;
      const problem = this.checkHead(exchange, step.value.head.status, step.value.head.headers);
      if (problem !== undefined) return this.failWith(problem);
      body = step.value.rest;
    }
    if (body.length > exchange.remaining) return this.fail('bad-response', 'protocol', 'http: more body bytes than Content-Length');
    exchange.remaining -= body.length;
    if (body.length > 0) exchange.callbacks.body(body);
    if (exchange.remaining === 0 && this.exchange === exchange) {
      if (exchange.closeAfter) this.drop();
      this.finish(ok(exchange.total));
    }
  }

  private checkHead(exchange: Exchange, status: number, headers: Map<string, string>): HttpError | undefined {
    const { start, end } = exchange.request;
    exchange.closeAfter = (headers.get('connection') ?? '').toLowerCase() === 'close';
    if (status >= 300 && status < 400) return { code: 'redirect', cause: 'http-redirect', status, message: `http: redirect ${status} not followed` };
    if (status === 416) return { code: 'short-file', cause: 'http-short-file', status, message: `http: 416, the file ends before byte ${end}` };
    if (status !== 206) {
      const cause = status >= 400 ? statusCause(status) : 'http-bad-response';
      return { code: 'status', cause, status, message: `http: status ${status} for bytes ${start}-${end - 1}` };
    }
    if (headers.has('transfer-encoding')) return { code: 'bad-response', cause: 'http-bad-response', message: 'http: Transfer-Encoding on a range answer' };
    const range = /^bytes ([0-9]{1,15})-([0-9]{1,15})\/([0-9]{1,15})$/.exec(headers.get('content-range') ?? '');
    if (range === null) return { code: 'bad-response', cause: 'http-bad-response', message: 'http: Content-Range missing or not bytes a-b/total' };
    const total = Number(range[3]);
    exchange.total = total;
    const lastAsked = end - 1;
    if (Number(range[1]) !== start || Number(range[2]) > lastAsked) {
      return { code: 'bad-response', cause: 'http-bad-response', message: `http: Content-Range ${headers.get('content-range')} for bytes ${start}-${lastAsked}` };
    }
    if (Number(range[2]) < lastAsked) {
      return total <= lastAsked
        ? { code: 'short-file', cause: 'http-short-file', message: `http: the file is ${total} bytes, short of byte ${lastAsked}` }
        : { code: 'bad-response', cause: 'http-bad-response', message: `http: Content-Range ${headers.get('content-range')} for bytes ${start}-${lastAsked}` };
    }
    if (headers.get('content-length') !== String(end - start)) {
      return { code: 'bad-response', cause: 'http-bad-response', message: `http: Content-Length is not ${end - start}` };
    }
    return undefined;
  }

  private fail(code: HttpErrorCode, cause: HttpError['cause'], message: string): void {
    this.failWith({ code, cause, message });
  }

  private failWith(error: HttpError): void {
    this.drop();
    this.finish(err(error));
  }

  private finish(result: Result<number, HttpError>): void {
    const exchange = this.exchange;
    if (exchange === undefined) return;
    this.exchange = undefined;
    this.disarmIdle();
    exchange.callbacks.done(result);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    socket?.close();
  }

  private armIdle(): void {
    this.disarmIdle();
    this.idle = this.options.timers.setTimeout(() => {
      this.idle = undefined;
      this.drop();
      this.finish(err({ code: this.exchange?.headSeen === true ? 'short-read' : 'network', cause: this.exchange?.headSeen === true ? 'http-short-read' : 'network', message: 'http: no answer within the idle timeout' }));
    }, this.options.idleTimeoutMs ?? 30_000);
  }

  private disarmIdle(): void {
    if (this.idle !== undefined) this.options.timers.clearTimeout(this.idle);
    this.idle = undefined;
  }
}
