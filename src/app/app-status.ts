// The getStatus reply: how long the firmware has run, what it has sent, what went wrong last, at what interval.

import type { JsonObject } from '../azure/json';

export interface StatusInput {
  uptimeMs: number;
  messagesSent: number;
  messagesFailed: number;
  lastError: string | undefined;
  telemetryIntervalMs: number;
  deviceId: string;
  firmwareVersion: string;
  connected: boolean;
}

export function buildStatus(input: StatusInput): JsonObject {
  return {
    deviceId: input.deviceId,
    firmwareVersion: input.firmwareVersion,
    uptimeSeconds: Math.max(0, Math.floor(input.uptimeMs / 1000)),
    connected: input.connected,
    messagesSent: input.messagesSent,
    messagesFailed: input.messagesFailed,
    telemetryIntervalMs: input.telemetryIntervalMs,
    lastError: input.lastError ?? null,
  };
}
