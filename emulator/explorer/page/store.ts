// Everything the page shows, built from the event stream. Every list is bounded, so a device sending 50 messages
// a second for hours leaves the page's memory where it was: the table keeps TABLE_ROWS messages, the chart a
// window of CHART_POINTS points per device, the log LOG_LINES lines.
import type {
  ExplorerDevice,
  ExplorerEnrollment,
  ExplorerEventName,
  ExplorerEvents,
  ExplorerLogLine,
  ExplorerRegistration,
  ExplorerSnapshot,
  ExplorerTelemetry,
} from '../../src/control/explorer-protocol';

export const TABLE_ROWS = 100;
export const CHART_POINTS = 600;
export const LOG_LINES = 400;
const TWIN_UPDATES = 30;
const MAX_FIELDS = 8;

export interface TwinState {
  desired: Record<string, unknown>;
  reported: Record<string, unknown>;
  /** False for a device that appeared after the snapshot: the page reads its twin once (Twin panel). */
  loaded: boolean;
  /** Newest first: desired patches sent and reported patches (the device's acknowledgements) as they arrive. */
  updates: Array<{ at: string; section: 'desired' | 'reported'; version: number; patch: Record<string, unknown> }>;
}

export interface Series {
  /** Seconds since the epoch, oldest first. */
  times: number[];
  fields: Map<string, Array<number | null>>;
}

export interface C2DSent {
  messageId: string;
  deviceId: string;
  body: string;
  properties: Record<string, string>;
  sentAt: string;
  outcome?: string;
}

export interface TelemetryRow extends ExplorerTelemetry {
  seq: number;
}

/** Numeric fields of a JSON body, one level of nesting (`a.b`), at most MAX_FIELDS. */
export function numericFields(body: string | undefined): Array<[string, number]> {
  if (body === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return [];
  }
  const out: Array<[string, number]> = [];
  if (typeof value === 'number') return [['value', value]];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (out.length >= MAX_FIELDS) break;
    if (typeof v === 'number' && Number.isFinite(v)) out.push([key, v]);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [inner, w] of Object.entries(v as Record<string, unknown>)) {
        if (out.length >= MAX_FIELDS) break;
        if (typeof w === 'number' && Number.isFinite(w)) out.push([`${key}.${inner}`, w]);
      }
    }
  }
  return out;
}

export class Store {
  stream: 'connecting' | 'live' | 'lost' = 'connecting';
  streamProblem: string | undefined;
  hub: ExplorerSnapshot['hub'] | undefined;
  dps: ExplorerSnapshot['dps'];
  devices: ExplorerDevice[] = [];
  /** Newest first. */
  telemetry: TelemetryRow[] = [];
  telemetryCount = 0;
  twins = new Map<string, TwinState>();
  series = new Map<string, Series>();
  enrollments: ExplorerEnrollment[] = [];
  registrations: ExplorerRegistration[] = [];
  log: Array<ExplorerLogLine & { seq: number }> = [];
  c2d: C2DSent[] = [];
  /** Outcomes that came before the page knew the message id (its send request still waiting for its answer). */
  private readonly c2dOutcomes = new Map<string, string>();
  faultKinds: string[] = [];
  selected: string | undefined;
  private seq = 0;
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Re-render at most ten times a second, however fast events come. */
  changed(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const listener of this.listeners) listener();
    }, 100);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  select(deviceId: string): void {
    this.selected = deviceId;
    this.changed();
  }

  /** Last activity as the events show it between device lists (the server's list carries its own). */
  private touch(deviceId: string, at = new Date().toISOString()): void {
    const device = this.devices.find((d) => d.deviceId === deviceId);
    if (device) device.lastActivity = at;
  }

  /** A message the page sent, with its outcome if that already came. */
  addC2D(message: C2DSent): void {
    const outcome = this.c2dOutcomes.get(message.messageId);
    if (outcome !== undefined) {
      message.outcome = outcome;
      this.c2dOutcomes.delete(message.messageId);
    }
    this.c2d.unshift(message);
    if (this.c2d.length > 30) this.c2d.length = 30;
    this.changed();
  }

  addLog(level: string, message: string, at = new Date().toISOString()): void {
    this.log.push({ at, level, message, seq: ++this.seq });
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
  }

  twin(deviceId: string): TwinState {
    let twin = this.twins.get(deviceId);
    if (!twin) {
      twin = { desired: {}, reported: {}, updates: [], loaded: false };
      this.twins.set(deviceId, twin);
    }
    return twin;
  }

  private addTelemetry(message: ExplorerTelemetry): void {
    this.telemetryCount++;
    this.telemetry.unshift({ ...message, seq: ++this.seq });
    if (this.telemetry.length > TABLE_ROWS) this.telemetry.length = TABLE_ROWS;
    const fields = numericFields(message.body);
    if (fields.length > 0) {
      let series = this.series.get(message.deviceId);
      if (!series) {
        series = { times: [], fields: new Map() };
        this.series.set(message.deviceId, series);
      }
      const index = series.times.length;
      series.times.push(Date.parse(message.receivedAt) / 1000);
      for (const [name, value] of fields) {
        let column = series.fields.get(name);
        if (!column) {
          if (series.fields.size >= MAX_FIELDS) continue;
          column = new Array<number | null>(index).fill(null);
          series.fields.set(name, column);
        }
        column.push(value);
      }
      for (const column of series.fields.values()) if (column.length <= index) column.push(null);
      if (series.times.length > CHART_POINTS) {
        const cut = series.times.length - CHART_POINTS;
        series.times.splice(0, cut);
        for (const column of series.fields.values()) column.splice(0, cut);
      }
    }
    if (this.selected === undefined) this.selected = message.deviceId;
  }

  apply<K extends ExplorerEventName>(name: K, data: ExplorerEvents[K]): void {
    switch (name) {
      case 'snapshot': {
        const snapshot = data as ExplorerSnapshot;
        this.hub = snapshot.hub;
        this.dps = snapshot.dps;
        this.devices = snapshot.devices;
        this.telemetry = [];
        this.series.clear();
        this.telemetryCount = 0;
        for (const message of snapshot.telemetry) this.addTelemetry(message);
        this.twins.clear();
        for (const twin of snapshot.twins) this.twins.set(twin.deviceId, { desired: twin.desired, reported: twin.reported, updates: [], loaded: true });
        this.enrollments = snapshot.enrollments;
        this.registrations = snapshot.registrations;
        this.faultKinds = snapshot.faultKinds;
        this.log = [];
        for (const line of snapshot.log) this.addLog(line.level, line.message, line.at);
        if (this.selected === undefined || !this.devices.some((d) => d.deviceId === this.selected)) this.selected = this.devices[0]?.deviceId;
        break;
      }
      case 'devices':
        this.devices = data as ExplorerEvents['devices'];
        if (this.selected === undefined) this.selected = this.devices[0]?.deviceId;
        break;
      case 'telemetry': {
        const message = data as ExplorerTelemetry;
        this.addTelemetry(message);
        this.touch(message.deviceId, message.receivedAt);
        break;
      }
      case 'connection': {
        const e = data as ExplorerEvents['connection'];
        if (e.type === 'connected') this.addLog('event', `${e.deviceId} connected (${e.authMethod ?? ''})`, e.at);
        else if (e.type === 'disconnected') this.addLog('event', `${e.deviceId} disconnected (${e.reason ?? ''}): ${e.detail ?? ''}`, e.at);
        else this.addLog('event', `connection refused for ${e.clientId ?? ''}: CONNACK ${e.returnCode ?? ''} ${e.detail ?? ''}`, e.at);
        break;
      }
      case 'twin': {
        const e = data as ExplorerEvents['twin'];
        this.touch(e.deviceId);
        const twin = this.twin(e.deviceId);
        const section = e.section === 'desired' ? twin.desired : twin.reported;
        mergePatch(section, e.patch);
        section['$version'] = e.version;
        twin.updates.unshift({ at: new Date().toISOString(), section: e.section, version: e.version, patch: e.patch });
        if (twin.updates.length > TWIN_UPDATES) twin.updates.length = TWIN_UPDATES;
        this.addLog('event', `twin ${e.section} of ${e.deviceId} now version ${e.version}: ${JSON.stringify(e.patch)}`);
        break;
      }
      case 'c2d': {
        const e = data as ExplorerEvents['c2d'];
        this.touch(e.deviceId);
        const sent = this.c2d.find((m) => m.messageId === e.messageId);
        if (sent) sent.outcome = e.outcome;
        else {
          // The device can complete a message before the page's send request has its answer.
          this.c2dOutcomes.set(e.messageId, e.outcome);
          if (this.c2dOutcomes.size > 100) this.c2dOutcomes.delete(this.c2dOutcomes.keys().next().value!);
        }
        this.addLog('event', `C2D ${e.messageId} to ${e.deviceId}: ${e.outcome}`);
        break;
      }
      case 'fault': {
        const e = data as ExplorerEvents['fault'];
        this.addLog('fault', `${e.kind} on ${e.target}: ${e.detail}`);
        break;
      }
      case 'dps': {
        const e = data as ExplorerEvents['dps'];
        this.enrollments = e.enrollments;
        this.registrations = e.registrations;
        break;
      }
      case 'log': {
        const line = data as ExplorerLogLine;
        this.addLog(line.level, line.message, line.at);
        break;
      }
    }
    this.changed();
  }
}

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (typeof value === 'object' && !Array.isArray(value) && typeof target[key] === 'object' && target[key] !== null) {
      mergePatch(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
}
