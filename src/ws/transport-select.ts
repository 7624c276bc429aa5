// Picks MQTT (8883) or MQTT over WebSockets (443) for each connection of one service, hub or DPS, by the failure
// policy's transportForAttempt: it counts the attempts in a row whose transport never came up and asks the policy
// which transport the next one takes. The MQTT session, the hub and DPS clients above see one TransportFactory.

import { transportForAttempt, type TransportKind } from '../failure/failure-policy';
import type { Logger, TlsConnectOptions, Transport, TransportCloseReason, TransportError, TransportEvents, TransportFactory } from '../ports';

export interface TransportChoice {
  configured: TransportKind;
  /** Failed attempts in a row before the other transport is tried; 0 never switches. */
  fallbackAfter: number;
  /** Where WebSockets connect: default the same host, port 443. */
  wsEndpoint?: { host: string; port: number };
}

export class TransportSelector implements TransportFactory {
  private failures = 0;
  private last: TransportKind | undefined;

  constructor(
    private readonly tls: TransportFactory,
    /** Undefined when the image has no WebSocket transport: MQTT only. */
    private readonly ws: TransportFactory | undefined,
    private readonly choice: TransportChoice,
    private readonly logger: Logger,
    private readonly service: string,
  ) {}

  /** The transport the next connection takes. */
  get next(): TransportKind {
    return this.ws === undefined ? 'mqtt' : transportForAttempt(this.choice.configured, this.failures, this.choice.fallbackAfter);
  }

  connect(options: TlsConnectOptions, events: TransportEvents): Transport {
    const kind = this.next;
    let target = options;
    if (kind === 'mqtt-ws') {
      const endpoint = this.choice.wsEndpoint ?? { host: options.host, port: 443 };
      target = { ...options, host: endpoint.host, port: endpoint.port, serverName: options.serverName ?? options.host };
    }
    if (kind !== this.last) {
      const why = this.last === undefined ? '' : ` after ${this.failures} failed attempt(s)`;
      this.logger.log('info', `${this.service}: ${kind === 'mqtt' ? 'MQTT' : 'MQTT over WebSockets'} to ${target.host}:${target.port}${why}`);
      this.last = kind;
    }
    const factory = kind === 'mqtt-ws' && this.ws !== undefined ? this.ws : this.tls;
    return factory.connect(target, new Attempt(this, events));
  }

  /** An attempt's transport came up (true) or closed before it did (false); a close we asked for is neither. */
  settled(up: boolean): void {
    if (up) this.failures = 0;
    else this.failures++;
  }
}

/** One connection's events, passed through; tells the selector whether the transport came up. */
class Attempt implements TransportEvents {
  private up = false;

  constructor(
    private readonly selector: TransportSelector,
    private readonly events: TransportEvents,
  ) {}

  onConnect(): void {
    this.up = true;
    this.selector.settled(true);
    this.events.onConnect();
  }

  onData(chunk: Uint8Array): void {
    this.events.onData(chunk);
  }

  onWritable(): void {
    this.events.onWritable();
  }

  onError(error: TransportError): void {
    this.events.onError(error);
  }

  onClose(reason: TransportCloseReason): void {
    if (!this.up && reason.by !== 'local') this.selector.settled(false);
    this.events.onClose(reason);
  }
}
