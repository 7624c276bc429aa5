// The device's behaviour once it has a hub client: telemetry on a timer, its description reported to the twin,
// the `telemetryInterval` writable property, the direct methods and C2D logging, with every step logged in plain
// words. It owns no connection: the client reconnects by itself and this object only reacts to its events.
// stop() removes every handler and timer it set, so a "reboot" can build a fresh one on the same client.

import type { JsonObject } from '../azure/json';
import type { WritablePropertyAck } from '../azure/pnp';
import type { Logger, LogLevel, Timers, WallClock } from '../ports';
import type { AppHub } from './app-hub';
import { buildStatus } from './app-status';
import { describeC2d } from './c2d-log';
import { registerCommands } from './commands';
import { buildDeviceInfo, FIRMWARE_VERSION } from './device-info';
import { decideDesiredInterval, INTERVAL_PROPERTY } from './interval-property';
import type { SensorPort } from './simulated-sensor';
import type { UnsentReadings } from './unsent-readings';
import { TelemetryLoop } from './telemetry-loop';
import { errorText } from '../errors';
import type { JournalPort, JournalStatus } from '../hub/hub-types';

export interface FirmwareAppOptions {
  hub: AppHub;
  timers: Timers;
  clock: WallClock;
  logger: Logger;
  sensor: SensorPort;
  telemetryIntervalMs: number;
  manufacturer: string;
  model: string;
  /** "node", "moddable-esp32"...: reported to the twin. */
  hostKind: string;
  /** Whether the client is connected right now (the first connection usually is, by the time the app starts). */
  connected: boolean;
  /** What the `reboot` method does: restart the board, or on Node rebuild the app. */
  reboot(): void;
  firmwareVersion?: string;
  /** Readings a closed client left unacknowledged, shared with the app that runs on the next client. */
  carry?: UnsentReadings;
  /** The telemetry journal the hub client sends from: its figures go into getStatus, its drops to the twin. */
  journal?: Pick<JournalPort, 'stats'>;
}


export class FirmwareApp {
  private readonly loop: TelemetryLoop;
  private readonly startedAt: number;
  private readonly offs: Array<() => void> = [];
  private connected: boolean;
  private lastError: string | undefined;
  /** The desired $version last answered, so an interval set by the method is acknowledged against it. */
  private desiredVersion = 0;
  private running = false;
  /** The drop count last reported to the twin. */
  private reportedDrops: number | undefined;

  constructor(private readonly options: FirmwareAppOptions) {
    this.startedAt = options.timers.now();
    this.connected = options.connected;
    this.loop = new TelemetryLoop(
      {
        hub: options.hub,
        timers: options.timers,
        sensor: options.sensor,
        log: (level, message) => this.log(level, message),
        onFailure: (message) => {
          this.lastError = message;
        },
        ...(options.carry === undefined ? {} : { carry: options.carry }),
      },
      options.telemetryIntervalMs,
    );
  }

  get telemetryIntervalMs(): number {
    return this.loop.intervalMs;
  }

  status(): JsonObject {
    const stats = this.loop.stats;
    return buildStatus({
      uptimeMs: this.options.timers.now() - this.startedAt,
      messagesSent: stats.sent,
      messagesFailed: stats.failed,
      lastError: this.lastError,
      telemetryIntervalMs: this.loop.intervalMs,
      deviceId: this.options.hub.deviceId,
      firmwareVersion: this.options.firmwareVersion ?? FIRMWARE_VERSION,
      connected: this.connected,
      journal: this.options.journal?.stats(),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { hub } = this.options;
    // The hub client logs its own connection changes and errors; the app only keeps what getStatus reports.
    this.offs.push(
      hub.on('connected', () => {
        this.connected = true;
      }),
      hub.on('disconnected', () => {
        this.connected = false;
      }),
      hub.on('error', (error) => {
        this.lastError = `hub: ${error.message}`;
      }),
      hub.on('journal', (status) => this.onJournal(status)),
      hub.onDesired((patch, version, info) => this.onDesired(patch, version, info.full)),
      hub.onC2D((message) => this.log('info', describeC2d(message))),
      registerCommands(hub, {
        timers: this.options.timers,
        log: (level, message) => this.log(level, message),
        status: () => this.status(),
        currentIntervalMs: () => this.loop.intervalMs,
        setIntervalMs: (ms) => {
          this.loop.setInterval(ms);
          this.acknowledge({ name: INTERVAL_PROPERTY, value: ms, ackCode: 200, ackVersion: this.desiredVersion, description: 'set by setTelemetryInterval' });
        },
        reboot: () => this.options.reboot(),
      }),
    );
    this.reportDeviceInfo();
    const journal = this.options.journal?.stats();
    if (journal !== undefined) this.onJournal(journal);
    this.loop.start();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.loop.stop();
    for (const off of this.offs.splice(0)) off();
  }

  private reportDeviceInfo(): void {
    const info = buildDeviceInfo({
      manufacturer: this.options.manufacturer,
      model: this.options.model,
      firmwareVersion: this.options.firmwareVersion ?? FIRMWARE_VERSION,
      hostKind: this.options.hostKind,
      bootTimeUnixMs: this.options.clock.unixMs(),
      sensor: this.options.sensor.description,
    });
    this.log('info', `reporting device info: firmware ${info.firmwareVersion} on ${info.hostKind}, boot time ${info.bootTime ?? 'unknown (clock not set)'}`);
    this.options.hub.patchReported({ ...info }).then(
      (version) => this.log('info', `device info reported${version === undefined ? '' : ` (reported version ${version})`}`),
      (error: unknown) => this.recordError(`device info not reported: ${errorText(error)}`),
    );
  }

  /** Drops are reported as `telemetryDropped` when the count changes (a whole segment at a time, so rarely). */
  private onJournal(status: JournalStatus): void {
    if (status.dropped === this.reportedDrops) return;
    const first = this.reportedDrops === undefined;
    this.reportedDrops = status.dropped;
    if (first && status.dropped === 0) return;
    if (status.dropped > 0) this.log('warn', `telemetry journal full: ${status.dropped} message(s) dropped so far`);
    this.options.hub.patchReported({ telemetryDropped: status.dropped }).then(
      () => undefined,
      (error: unknown) => this.recordError(`telemetryDropped not reported: ${errorText(error)}`),
    );
  }

  private onDesired(patch: JsonObject, version: number, full: boolean): void {
    this.desiredVersion = version;
    const decision = decideDesiredInterval(patch, version, this.loop.intervalMs);
    if (decision === undefined) {
      this.log('debug', `desired properties version ${version}${full ? ' (whole twin)' : ''}: nothing for this firmware`);
      return;
    }
    if (decision.apply !== undefined) {
      const before = this.loop.intervalMs;
      this.loop.setInterval(decision.apply);
      this.log('info', `twin: ${INTERVAL_PROPERTY} ${before} ms -> ${decision.apply} ms (desired version ${version})`);
    } else {
      this.log('warn', `twin: ${decision.ack.description ?? 'refused'} (desired version ${version})`);
    }
    this.acknowledge(decision.ack);
  }

  private acknowledge(ack: WritablePropertyAck): void {
    // Called from deep inside a received twin patch or method call: the reported patch is checked, encoded and
    // written from a fresh job instead, so that chain does not run out of a small XS stack (384 slots on an ESP32-C3).
    Promise.resolve()
      .then(() => this.options.hub.ackWritableProperty(ack))
      .then(
        () => this.log('info', `twin: ${ack.name} acknowledged (ac ${ack.ackCode}, av ${ack.ackVersion}, value ${JSON.stringify(ack.value)})`),
        (error: unknown) => this.recordError(`twin: ${ack.name} acknowledgement not sent: ${errorText(error)}`),
      );
  }

  private recordError(message: string): void {
    this.lastError = message;
    this.log('warn', message);
  }

  private log(level: LogLevel, message: string): void {
    this.options.logger.log(level, `app: ${message}`);
  }
}
