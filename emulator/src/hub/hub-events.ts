// Everything the hub reports to its owner (tests, the CLI's `watch`, the control API).
import type { TelemetryMessage } from './telemetry';
import type { FaultEvent } from './faults';

export type DisconnectReason =
  | 'client-disconnect' // the device sent DISCONNECT
  | 'peer-closed' // the socket ended without DISCONNECT
  | 'replaced' // a new connection of the same identity took over
  | 'keepalive-timeout' // nothing heard for 1.5 x keep-alive
  | 'protocol-violation' // forbidden topic, QoS 2, oversized packet, malformed bytes...
  | 'identity-removed' // deleted or disabled in the registry
  | 'token-expired' // the SAS token the connection authenticated with ran out (IoTHubUnauthorized 401003)
  | 'fault' // injected
  | 'server-stopped';

export type ConnectionEvent =
  | { type: 'connected'; deviceId: string; moduleId?: string; at: string; authMethod: string; cleanSession: boolean; keepAlive: number }
  | { type: 'disconnected'; deviceId: string; moduleId?: string; at: string; reason: DisconnectReason; detail: string }
  | { type: 'refused'; clientId: string; at: string; returnCode: number; detail: string };

export interface C2DEvent {
  deviceId: string;
  messageId: string;
  outcome: 'completed' | 'expired' | 'max-deliveries' | 'discarded-clean-session';
}

export interface TwinEvent {
  deviceId: string;
  moduleId?: string;
  section: 'desired' | 'reported';
  patch: Record<string, unknown>;
  version: number;
}

export interface HubEvents {
  telemetry: TelemetryMessage;
  connection: ConnectionEvent;
  c2d: C2DEvent;
  twin: TwinEvent;
  fault: FaultEvent;
}
