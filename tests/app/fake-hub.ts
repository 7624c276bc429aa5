// A hand-driven stand-in for the hub client: records what the app sends and lets a test play the hub's part
// (desired patches, method calls, C2D messages, connection events) without MQTT.
import { Emitter } from '../../src/events';
import type { JsonObject } from '../../src/azure/json';
import type { WritablePropertyAck } from '../../src/azure/pnp';
import type { C2dHandler, C2dMessage, DesiredHandler, HubClientEvents, TelemetryOptions } from '../../src/hub/hub-types';
import type { MethodHandler, MethodResult } from '../../src/hub/method-dispatcher';
import type { AppHub } from '../../src/app/app-hub';

export interface SentTelemetry {
  body: string;
  options: TelemetryOptions | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/** The hub's events, raised by the test (emit made public: the test plays the hub). */
class HubEvents extends Emitter<HubClientEvents> {
  override emit<K extends keyof HubClientEvents>(event: K, payload: HubClientEvents[K]): void {
    super.emit(event, payload);
  }
}

export class FakeHub implements AppHub {
  readonly deviceId: string;
  readonly telemetry: SentTelemetry[] = [];
  readonly reported: Record<string, unknown>[] = [];
  readonly acks: WritablePropertyAck[] = [];
  /** When set, sendTelemetry settles at once this way; otherwise the test settles each message. */
  autoSettle: 'resolve' | Error | undefined = 'resolve';
  reportFailure: Error | undefined;
  private readonly emitter = new HubEvents();
  private readonly desired: DesiredHandler[] = [];
  private readonly methods = new Map<string, MethodHandler>();
  private c2d: C2dHandler | undefined;
  private reportedVersion = 1;

  constructor(deviceId = 'device-1') {
    this.deviceId = deviceId;
  }

  sendTelemetry(body: Uint8Array | string, options?: TelemetryOptions): Promise<void> {
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
    return new Promise<void>((resolve, reject) => {
      this.telemetry.push({ body: text, options, resolve, reject });
      if (this.autoSettle === 'resolve') resolve();
      else if (this.autoSettle instanceof Error) reject(this.autoSettle);
    });
  }

  patchReported(patch: Record<string, unknown>): Promise<number | undefined> {
    if (this.reportFailure) return Promise.reject(this.reportFailure);
    this.reported.push(patch);
    return Promise.resolve(++this.reportedVersion);
  }

  ackWritableProperty(ack: WritablePropertyAck): Promise<number | undefined> {
    if (this.reportFailure) return Promise.reject(this.reportFailure);
    this.acks.push(ack);
    return Promise.resolve(++this.reportedVersion);
  }

  onDesired(handler: DesiredHandler): () => void {
    this.desired.push(handler);
    return () => {
      const i = this.desired.indexOf(handler);
      if (i >= 0) this.desired.splice(i, 1);
    };
  }

  onMethod(name: string, handler: MethodHandler): () => void {
    this.methods.set(name, handler);
    return () => {
      if (this.methods.get(name) === handler) this.methods.delete(name);
    };
  }

  onC2D(handler: C2dHandler): () => void {
    this.c2d = handler;
    return () => {
      if (this.c2d === handler) this.c2d = undefined;
    };
  }

  on<K extends keyof HubClientEvents>(event: K, listener: (payload: HubClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  // ---- the hub's side ----

  emit<K extends keyof HubClientEvents>(event: K, payload: HubClientEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  listenerCount(): number {
    let n = this.desired.length + this.methods.size + (this.c2d ? 1 : 0);
    for (const event of ['connected', 'disconnected', 'reconnecting', 'error', 'state'] as const) n += this.emitter.listenerCount(event);
    return n;
  }

  async pushDesired(patch: JsonObject, version: number, full = false): Promise<void> {
    for (const handler of this.desired.slice()) await handler(patch, version, { full });
  }

  async invoke(name: string, payload: unknown = null): Promise<MethodResult> {
    const handler = this.methods.get(name);
    if (!handler) return { status: 404, payload: { error: `no handler for method '${name}'` } };
    return handler({ name, command: name, payload: payload as never, rid: '1' });
  }

  hasMethod(name: string): boolean {
    return this.methods.has(name);
  }

  async pushC2d(message: Partial<C2dMessage> & { payload: Uint8Array }): Promise<void> {
    const full: C2dMessage = { properties: [], allProperties: [], redelivered: false, ...message };
    await this.c2d?.(full);
  }
}
