// What the explorer page and the control server say to each other: the Server-Sent Events stream
// (`GET /explorer/events`) and the request bodies of the page's actions. Types only, shared by the server
// (emulator/src/control/explorer.ts) and the page (emulator/explorer/page/), so neither imports the other.

export type AuthKind = 'sas' | 'x509-thumbprint' | 'x509-ca';

/** One device as the page lists it: no keys, no connection string. */
export interface ExplorerDevice {
  deviceId: string;
  status: 'enabled' | 'disabled';
  authType: AuthKind;
  connected: boolean;
  /** ISO time of the last thing heard from or done to the device (connect, telemetry, twin, method, C2D). */
  lastActivity?: string;
  /** The last disconnect's reason and detail, while it is the latest connection event. */
  lastDisconnect?: { at: string; reason: string; detail: string };
  modules: Array<{ moduleId: string; authType: AuthKind; connected: boolean }>;
}

export interface ExplorerTelemetry {
  deviceId: string;
  moduleId?: string;
  /** The body as text when it is UTF-8, else `bodyBase64`. */
  body?: string;
  bodyBase64?: string;
  properties: Record<string, string | null>;
  systemProperties: Record<string, string | null>;
  receivedAt: string;
  qos: number;
}

/** An enrollment without its keys or certificates. */
export interface ExplorerEnrollment {
  kind: 'individual' | 'group';
  id: string;
  attestation: string;
  provisioningStatus: 'enabled' | 'disabled';
  deviceId?: string;
  createdDateTimeUtc: string;
}

export interface ExplorerRegistration {
  registrationId: string;
  enrollment: string;
  status: string;
  deviceId?: string;
  assignedHub?: string;
  substatus?: string;
  errorCode?: number;
  lastUpdatedDateTimeUtc: string;
}

export interface ExplorerTwin {
  deviceId: string;
  desired: Record<string, unknown>;
  reported: Record<string, unknown>;
}

export interface ExplorerLogLine {
  at: string;
  level: string;
  message: string;
}

export interface ExplorerSnapshot {
  hub: { hostName: string; port: number };
  dps?: { port: number; idScope: string };
  devices: ExplorerDevice[];
  telemetry: ExplorerTelemetry[];
  twins: ExplorerTwin[];
  enrollments: ExplorerEnrollment[];
  registrations: ExplorerRegistration[];
  log: ExplorerLogLine[];
  /** The fault kinds `POST /faults` takes, for the page's menu. */
  faultKinds: string[];
}

/** Event name -> `data` of the Server-Sent Events stream. */
export interface ExplorerEvents {
  snapshot: ExplorerSnapshot;
  devices: ExplorerDevice[];
  telemetry: ExplorerTelemetry;
  connection: { type: string; deviceId?: string; clientId?: string; at: string; reason?: string; detail?: string; authMethod?: string; returnCode?: number };
  twin: { deviceId: string; moduleId?: string; section: 'desired' | 'reported'; patch: Record<string, unknown>; version: number };
  c2d: { deviceId: string; messageId: string; outcome: string };
  fault: { kind: string; target: string; detail: string };
  dps: { enrollments: ExplorerEnrollment[]; registrations: ExplorerRegistration[] };
  log: ExplorerLogLine;
}

export type ExplorerEventName = keyof ExplorerEvents;

/** How the page gets its token: `http://127.0.0.1:{port}/explorer#token={token}`. */
export const EXPLORER_PATH = '/explorer';
export const EXPLORER_SCRIPT_PATH = '/explorer/app.js';
export const EXPLORER_EVENTS_PATH = '/explorer/events';
