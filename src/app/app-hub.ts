// The part of the hub client the application uses. The real HubClient (src/hub/hub-client.ts) satisfies it as
// is; tests hand the app a small fake instead, so every app behaviour is checked without MQTT or a network.

import type { WritablePropertyAck } from '../azure/pnp';
import type { C2dHandler, DesiredHandler, HubClientEvents, TelemetryOptions } from '../hub/hub-types';
import type { MethodHandler } from '../hub/method-dispatcher';

export interface AppHub {
  readonly deviceId: string;
  sendTelemetry(body: Uint8Array | string, options?: TelemetryOptions): Promise<void>;
  patchReported(patch: Record<string, unknown>): Promise<number | undefined>;
  ackWritableProperty(ack: WritablePropertyAck): Promise<number | undefined>;
  onDesired(handler: DesiredHandler): () => void;
  onMethod(name: string, handler: MethodHandler): () => void;
  onC2D(handler: C2dHandler): () => void;
  on<K extends keyof HubClientEvents>(event: K, listener: (payload: HubClientEvents[K]) => void): () => void;
}
