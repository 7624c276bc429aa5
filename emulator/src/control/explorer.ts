// The hub explorer's server side, inside the control server: the page (a static HTML shell and one bundled
// script, both free of any state, so they are the only unauthenticated routes), and the Server-Sent Events stream
// that pushes everything the page shows. The stream and every action need the control token like any other
// control route; the page carries the token in its URL fragment (never sent to the server) and sends it in the
// `x-emulator-token` header, so no cookie or query string opens a new way in.
import type { ServerResponse } from 'node:http';
import type { Emulator } from '../emulator';
import type { DeviceRecord } from '../registry';
import type { LogFeed } from '../log';
import type { Enrollment } from '../dps/enrollment-types';
import type { RegistrationRecord } from '../dps/registration-service';
import type {
  ExplorerDevice,
  ExplorerEnrollment,
  ExplorerEventName,
  ExplorerEvents,
  ExplorerRegistration,
  ExplorerSnapshot,
  ExplorerTelemetry,
} from './explorer-protocol';
import { EXPLORER_SCRIPT_PATH } from './explorer-protocol';

export const FAULT_KINDS = [
  'drop',
  'drop-after-bytes',
  'drop-mid-packet',
  'withhold-pubacks',
  'twin',
  'method',
  'refuse-connect',
  'latency',
  'late-subscription',
  'out-of-order',
  'clear',
];

/** Stream buffer beyond which a client that does not read is cut off (it reconnects and gets a fresh snapshot). */
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const SNAPSHOT_TELEMETRY = 200;

/** Last activity and last disconnect per device, from the hub's events since the control server started. */
export class DeviceActivity {
  private readonly last = new Map<string, string>();
  private readonly disconnects = new Map<string, { at: string; reason: string; detail: string }>();
  private readonly offs: Array<() => void>;

  constructor(emulator: Emulator) {
    const touch = (deviceId: string, at = new Date().toISOString()): void => void this.last.set(deviceId, at);
    this.offs = [
      emulator.on('telemetry', (m) => touch(m.deviceId, m.receivedAt)),
      emulator.on('twin', (t) => touch(t.deviceId)),
      emulator.on('c2d', (c) => touch(c.deviceId)),
      emulator.on('connection', (e) => {
        if (e.type === 'refused') return;
        touch(e.deviceId, e.at);
        if (e.type === 'disconnected') this.disconnects.set(e.deviceId, { at: e.at, reason: e.reason, detail: e.detail });
        else this.disconnects.delete(e.deviceId);
      }),
    ];
  }

  touch(deviceId: string): void {
    this.last.set(deviceId, new Date().toISOString());
  }

  view(emulator: Emulator, device: DeviceRecord): ExplorerDevice {
    const lastActivity = this.last.get(device.deviceId);
    const lastDisconnect = this.disconnects.get(device.deviceId);
    return {
      deviceId: device.deviceId,
      status: device.status,
      authType: device.auth.type,
      connected: emulator.isConnected(device.deviceId),
      ...(lastActivity === undefined ? {} : { lastActivity }),
      ...(lastDisconnect === undefined ? {} : { lastDisconnect }),
      modules: Object.values(device.modules).map((m) => ({
        moduleId: m.moduleId,
        authType: m.auth.type,
        connected: emulator.isConnected(device.deviceId, m.moduleId),
      })),
    };
  }

  close(): void {
    for (const off of this.offs) off();
  }
}

function telemetryView(message: { body: Uint8Array } & Omit<ExplorerTelemetry, 'body' | 'bodyBase64'>): ExplorerTelemetry {
  const body = Buffer.from(message.body);
  const text = body.toString('utf8');
  const view: ExplorerTelemetry = {
    deviceId: message.deviceId,
    properties: message.properties,
    systemProperties: message.systemProperties,
    receivedAt: message.receivedAt,
    qos: message.qos,
  };
  if (message.moduleId !== undefined) view.moduleId = message.moduleId;
  if (Buffer.from(text, 'utf8').equals(body)) view.body = text;
  else view.bodyBase64 = body.toString('base64');
  return view;
}

function enrollmentView(enrollment: Enrollment): ExplorerEnrollment {
  return {
    kind: enrollment.kind,
    id: enrollment.kind === 'individual' ? enrollment.registrationId : enrollment.enrollmentGroupId,
    attestation: enrollment.attestation.type,
    provisioningStatus: enrollment.provisioningStatus ?? 'enabled',
    ...(enrollment.deviceId === undefined ? {} : { deviceId: enrollment.deviceId }),
    createdDateTimeUtc: enrollment.createdDateTimeUtc,
  };
}

function registrationView(record: RegistrationRecord): ExplorerRegistration {
  return {
    registrationId: record.registrationId,
    enrollment: record.enrollment.kind === 'individual' ? `individual ${record.enrollment.registrationId}` : `group ${record.enrollment.enrollmentGroupId}`,
    status: record.status,
    lastUpdatedDateTimeUtc: record.lastUpdatedDateTimeUtc,
    ...(record.deviceId === undefined ? {} : { deviceId: record.deviceId }),
    ...(record.assignedHub === undefined ? {} : { assignedHub: record.assignedHub }),
    ...(record.substatus === undefined ? {} : { substatus: record.substatus }),
    ...(record.errorCode === undefined ? {} : { errorCode: record.errorCode }),
  };
}

function dpsView(emulator: Emulator): ExplorerEvents['dps'] {
  const dps = emulator.dps;
  if (!dps) return { enrollments: [], registrations: [] };
  const { individual, groups } = dps.enrollments.list();
  return {
    enrollments: [...individual, ...groups].map(enrollmentView),
    registrations: dps.registrations().map(registrationView),
  };
}

function devicesView(emulator: Emulator, activity: DeviceActivity): ExplorerDevice[] {
  return emulator.registry.listDevices().map((d) => activity.view(emulator, d));
}

export function explorerSnapshot(emulator: Emulator, activity: DeviceActivity, logFeed: LogFeed | undefined): ExplorerSnapshot {
  const devices = devicesView(emulator, activity);
  const { enrollments, registrations } = dpsView(emulator);
  return {
    hub: { hostName: emulator.hubHostName, port: emulator.hubPort },
    ...(emulator.dps ? { dps: { port: emulator.dps.port, idScope: emulator.dps.idScope } } : {}),
    devices,
    telemetry: emulator.telemetry().slice(-SNAPSHOT_TELEMETRY).map(telemetryView),
    twins: devices.map((d) => {
      const twin = emulator.getTwin(d.deviceId);
      return { deviceId: d.deviceId, desired: twin.desired, reported: twin.reported };
    }),
    enrollments,
    registrations,
    log: logFeed?.recent() ?? [],
    faultKinds: FAULT_KINDS,
  };
}

/**
 * Serves `GET /explorer/events`: `text/event-stream`, a `snapshot` event first, then every change as it happens.
 * Returns the function that ends the stream (the control server calls it on close).
 */
export function openExplorerStream(emulator: Emulator, activity: DeviceActivity, logFeed: LogFeed | undefined, res: ServerResponse): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  let open = true;
  const send = <K extends ExplorerEventName>(event: K, data: ExplorerEvents[K]): void => {
    if (!open) return;
    if (res.writableLength > MAX_UNREAD_BYTES) {
      end();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  // Device list changes (connect, disconnect, registry edits) go out once per turn, however many came together.
  let devicesQueued = false;
  const queueDevices = (): void => {
    if (devicesQueued) return;
    devicesQueued = true;
    setImmediate(() => {
      devicesQueued = false;
      send('devices', devicesView(emulator, activity));
    });
  };
  let dpsQueued = false;
  const queueDps = (): void => {
    if (dpsQueued) return;
    dpsQueued = true;
    setImmediate(() => {
      dpsQueued = false;
      send('dps', dpsView(emulator));
    });
  };
  const offs: Array<() => void> = [
    emulator.on('telemetry', (m) => send('telemetry', telemetryView(m))),
    emulator.on('connection', (e) => {
      send('connection', e);
      queueDevices();
    }),
    emulator.on('twin', (t) => send('twin', t)),
    emulator.on('c2d', (c) => send('c2d', c)),
    emulator.on('fault', (f) => send('fault', f)),
    emulator.registry.onChange(() => queueDevices()),
  ];
  const dps = emulator.dps;
  if (dps) {
    offs.push(dps.enrollments.onChange(() => queueDps()));
    offs.push(dps.on('assigned', () => queueDps()));
    offs.push(dps.on('request', () => queueDps()));
  }
  if (logFeed) offs.push(logFeed.on((line) => send('log', line)));
  const heartbeat = setInterval(() => {
    if (open) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  function end(): void {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    for (const off of offs) off();
    res.end();
  }
  res.on('close', end);
  send('snapshot', explorerSnapshot(emulator, activity, logFeed));
  return end;
}

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The page runs only its own script and talks only to this server; no frame may hold it.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hub explorer - local IoT Hub emulator</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="app"><p>Loading the explorer...</p></div>
<script src="${EXPLORER_SCRIPT_PATH}"></script>
</body>
</html>
`;

/** The page shell (`GET /explorer`). */
export function serveExplorerPage(res: ServerResponse): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' });
  res.end(PAGE_HTML);
}

/** The bundled script (`GET /explorer/app.js`). */
export function serveExplorerScript(res: ServerResponse, script: string): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' });
  res.end(script);
}
