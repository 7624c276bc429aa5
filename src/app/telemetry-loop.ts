// Periodic telemetry: one sensor reading per interval, sent as JSON. Each tick is scheduled from the previous
// one, so a slow send never makes ticks pile up, and a new interval takes effect at once (the next reading comes
// one new interval after the change). Sends are not awaited before the next tick: while the hub is away the
// client queues them (bounded) and delivers them after reconnecting; what it refuses is counted and logged.

import type { LogLevel, TimerHandle, Timers } from '../ports';
import type { AppHub } from './app-hub';
import type { SensorPort, SensorReading } from './simulated-sensor';

export interface TelemetryLoopDeps {
  hub: Pick<AppHub, 'sendTelemetry'>;
  timers: Timers;
  sensor: SensorPort;
  log(level: LogLevel, message: string): void;
  /** Told about every failed send (after it is logged). */
  onFailure?(message: string): void;
}

export interface TelemetryCounters {
  /** Messages the hub acknowledged. */
  sent: number;
  /** Messages the client refused or gave up on. */
  failed: number;
  /** Readings taken (one per tick that had a reading). */
  taken: number;
}

export function telemetryBody(reading: SensorReading): string {
  return JSON.stringify({ temperature: reading.temperature, humidity: reading.humidity });
}

export class TelemetryLoop {
  private timer: TimerHandle | undefined;
  private running = false;
  private sequence = 0;
  private interval: number;
  private readonly counters: TelemetryCounters = { sent: 0, failed: 0, taken: 0 };
  private lastFailure: string | undefined;

  constructor(
    private readonly deps: TelemetryLoopDeps,
    intervalMs: number,
  ) {
    this.interval = intervalMs;
  }

  get intervalMs(): number {
    return this.interval;
  }

  get stats(): Readonly<TelemetryCounters> {
    return { ...this.counters };
  }

  /** The last send failure, if any, in plain words. */
  get lastError(): string | undefined {
    return this.lastFailure;
  }

  /** Takes the first reading now, then one per interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.deps.log('info', `telemetry every ${this.interval} ms from the ${this.deps.sensor.description} sensor`);
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Call with a value checked by checkTelemetryInterval. */
  setInterval(ms: number): void {
    if (ms === this.interval) return;
    this.interval = ms;
    if (!this.running) return;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.schedule();
  }

  private schedule(): void {
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, this.interval);
  }

  private tick(): void {
    if (!this.running) return;
    this.schedule();
    let reading: SensorReading | undefined;
    try {
      reading = this.deps.sensor.read();
    } catch (error) {
      this.deps.log('warn', `sensor read failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (reading === undefined) {
      this.deps.log('debug', 'sensor has no reading this time; nothing sent');
      return;
    }
    const n = ++this.sequence;
    this.counters.taken++;
    const summary = `temperature ${reading.temperature} C, humidity ${reading.humidity} %`;
    this.deps.hub
      .sendTelemetry(telemetryBody(reading), { systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' } })
      .then(
        () => {
          this.counters.sent++;
          this.deps.log('info', `telemetry #${n} sent (${summary})`);
        },
        (error: unknown) => {
          this.counters.failed++;
          this.lastFailure = `telemetry #${n} not sent: ${error instanceof Error ? error.message : String(error)}`;
          this.deps.log('warn', this.lastFailure);
          this.deps.onFailure?.(this.lastFailure);
        },
      );
  }
}
