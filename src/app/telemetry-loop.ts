// Periodic telemetry: one sensor reading per interval, sent as JSON. Each tick is scheduled from the previous
// one, so a slow send never makes ticks pile up, and a new interval takes effect at once (the next reading comes
// one new interval after the change). Sends are not awaited before the next tick: while the hub is away the
// client queues them (bounded) and delivers them after reconnecting; what it refuses is counted and logged.

import { HubError } from '../hub/hub-error';
import type { LogLevel, TimerHandle, Timers } from '../ports';
import type { AppHub } from './app-hub';
import type { CarriedReading, UnsentReadings } from './unsent-readings';
import type { SensorPort, SensorReading } from './simulated-sensor';
import { errorText } from '../errors';

export interface TelemetryLoopDeps {
  hub: Pick<AppHub, 'sendTelemetry'>;
  timers: Timers;
  sensor: SensorPort;
  log(level: LogLevel, message: string): void;
  /** Told about every failed send (after it is logged). */
  onFailure?(message: string): void;
  /**
   * Where readings go when the client is closed before the hub acknowledged them (the boot flow replaced it); a
   * loop started with the same carry sends them first. Without one, such readings count as failed.
   */
  carry?: UnsentReadings;
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

  /** Sends what an earlier client left undelivered, takes the first reading now, then one per interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const carried = this.deps.carry?.takeAll() ?? [];
    if (carried.length > 0) this.deps.log('info', `sending ${carried.length} reading(s) the previous connection left unacknowledged`);
    for (const reading of carried) {
      this.sequence = Math.max(this.sequence, reading.n);
      this.send(reading);
    }
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
      this.deps.log('warn', `sensor read failed: ${errorText(error)}`);
      return;
    }
    if (reading === undefined) {
      this.deps.log('debug', 'sensor has no reading this time; nothing sent');
      return;
    }
    const n = ++this.sequence;
    this.counters.taken++;
    this.send({ n, body: telemetryBody(reading), summary: `temperature ${reading.temperature} C, humidity ${reading.humidity} %` });
  }

  private send(reading: CarriedReading): void {
    const { n, summary } = reading;
    this.deps.hub
      .sendTelemetry(reading.body, { systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' } })
      .then(
        () => {
          this.counters.sent++;
          this.deps.log('info', `telemetry #${n} sent (${summary})`);
        },
        (error: unknown) => {
          const carry = this.deps.carry;
          if (carry !== undefined && error instanceof HubError && error.code === 'closed') {
            const pushedOut = carry.keep(reading);
            this.deps.log('info', `telemetry #${n} kept for the next connection (the client closed before the hub acknowledged it)`);
            if (pushedOut !== undefined) this.fail(pushedOut.n, 'dropped: too many readings waiting for the next connection');
            return;
          }
          this.fail(n, errorText(error));
        },
      );
  }

  private fail(n: number, reason: string): void {
    this.counters.failed++;
    this.lastFailure = `telemetry #${n} not sent: ${reason}`;
    this.deps.log('warn', this.lastFailure);
    this.deps.onFailure?.(this.lastFailure);
  }
}
