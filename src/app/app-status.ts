// The getStatus reply: how long the firmware has run, what it has sent, what went wrong last, at what interval.

import type { JsonObject } from '../azure/json';
import type { JournalStatus } from '../hub/hub-types';

export interface StatusInput {
  uptimeMs: number;
  messagesSent: number;
  messagesFailed: number;
  lastError: string | undefined;
  telemetryIntervalMs: number;
  deviceId: string;
  firmwareVersion: string;
  connected: boolean;
  /** The telemetry journal's figures, when telemetry is journaled. */
  journal?: JournalStatus | undefined;
}

export function buildStatus(input: StatusInput): JsonObject {
  const status: JsonObject = {
    deviceId: input.deviceId,
    firmwareVersion: input.firmwareVersion,
    uptimeSeconds: Math.max(0, Math.floor(input.uptimeMs / 1000)),
    connected: input.connected,
    messagesSent: input.messagesSent,
    messagesFailed: input.messagesFailed,
    telemetryIntervalMs: input.telemetryIntervalMs,
    lastError: input.lastError ?? null,
  };
  const journal = input.journal;
  if (journal !== undefined) {
    status['journal'] = {
      depth: journal.depth,
      bytes: journal.bytes,
      budgetBytes: journal.budgetBytes,
      oldestAgeSeconds: journal.oldestAgeSeconds ?? null,
      dropped: journal.dropped,
    };
  }
  return status;
}
