// The virtual-clock soak: a device (HubClient plus a small app) and the fake hub on one virtual clock, driven
// through simulated days by a seeded schedule of desired patches, method calls, dropped connections and
// refused reconnects, with 1-hour SAS tokens renewed on the way. Host-neutral, so the same run happens on
// Node and inside the real XS engine (where the heap is measured). Time advances in slices; after each slice
// the caller may sample memory.

import type { TimerHandle } from '../../src/ports';
import { HubClient } from '../../src/hub/hub-client';
import type { HubState } from '../../src/hub/hub-state';
import type { JsonObject } from '../../src/azure/json';
import { base64Encode } from '../../src/encoding/base64';
import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { Rng } from '../lib/rng';
import { FakeHub, type FakeHubStats, type MethodOutcome } from './fake-hub';
import { hmacSha256 } from '../../tests/helpers/hmac-sha256';

export interface VirtualSoakOptions {
  seed: number;
  /** Simulated hours to run (the soak default is 48); runVirtualSoak only. */
  hours: number;
  /** SAS token life, seconds (default 3600: hourly renewals). */
  sasTtlSeconds?: number;
  /** Mean minutes between events of each kind. */
  telemetryEveryMinutes?: number;
  desiredEveryMinutes?: number;
  methodEveryMinutes?: number;
  dropEveryMinutes?: number;
  /** Keeps a small object per telemetry message forever: a planted leak, to show the heap check can see one. */
  plantLeak?: boolean;
}

export interface VirtualSoakStats {
  seed: number;
  simulatedHours: number;
  telemetrySent: number;
  telemetryAcknowledged: number;
  telemetryRejected: number;
  telemetryMissing: number;
  telemetryDuplicates: number;
  /** Telemetry the hub could not match to a message this run sent (must stay 0). */
  telemetryUnknown: number;
  desiredPatches: number;
  desiredApplied: number;
  /** Versions applied out of order, or applied twice (must stay 0). */
  desiredOutOfOrder: number;
  finalDesiredVersion: number;
  lastAppliedVersion: number;
  reportedSent: number;
  reportedAcknowledged: number;
  reportedFailed: number;
  methodCalls: number;
  methodsAnswered: number;
  /** Calls made while the device was away (the hub answers 404 at once, as Azure does). */
  methodsOffline: number;
  /** Calls that ran out of time (504) or got another status (must stay 0). */
  methodsFailed: number;
  drops: number;
  refusedReconnects: number;
  renewals: number;
  reconnects: number;
  /** The longest stretch of virtual time spent not connected, ms. */
  longestOfflineMs: number;
  finalState: HubState;
  pendingTimers: number;
  hub: FakeHubStats;
  errors: Record<string, number>;
}

const HOST = 'virtual-hub.azure-devices.net';
const DEVICE = 'virtual-device';
/** Virtual wall time at the start: 2026-01-01T00:00:00Z. */
const WALL_START_MS = 1_767_225_600_000;
const SLICE_MS = 60 * 60 * 1000;

export class VirtualSoak {
  readonly clock = new VirtualClock();
  readonly hub: FakeHub;
  readonly client: HubClient;
  readonly stats: VirtualSoakStats;
  private readonly rng: Rng;
  private offlineSince: number | undefined = 0;
  private stopped = false;
  private readonly schedule = new Set<TimerHandle>();
  private readonly planted: Array<{ n: number }> = [];

  constructor(private readonly options: VirtualSoakOptions) {
    this.rng = new Rng(options.seed);
    const keyBytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) keyBytes[i] = (i * 7 + 3) & 0xff;
    const key = base64Encode(keyBytes);
    const wallMs = (): number => WALL_START_MS + this.clock.now();
    const random = this.rng.fork();
    // Room for every message the schedule could send (intervals are at least half the mean), plus margin.
    const maxTelemetryIds = Math.ceil(((options.hours + 1) * 60) / ((options.telemetryEveryMinutes ?? 5) * 0.5)) + 16;
    this.hub = new FakeHub({ timers: this.clock, wallMs, hmac: hmacSha256, hostName: HOST, deviceId: DEVICE, key, maxTelemetryIds, telemetryIdPrefix: 'v-' });
    this.client = new HubClient(
      {
        transport: this.hub,
        timers: this.clock,
        clock: { unixMs: wallMs },
        crypto: { hmacSha256, randomBytes: (n) => random.bytes(n) },
      },
      {
        credentials: { kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'sas', key } },
        trustedCAs: [],
        sasTtlSeconds: options.sasTtlSeconds ?? 3600,
        random: () => random.next(),
      },
    );
    this.stats = {
      seed: options.seed,
      simulatedHours: 0,
      telemetrySent: 0,
      telemetryAcknowledged: 0,
      telemetryRejected: 0,
      telemetryMissing: 0,
      telemetryDuplicates: 0,
      telemetryUnknown: 0,
      desiredPatches: 0,
      desiredApplied: 0,
      desiredOutOfOrder: 0,
      finalDesiredVersion: 0,
      lastAppliedVersion: 0,
      reportedSent: 0,
      reportedAcknowledged: 0,
      reportedFailed: 0,
      methodCalls: 0,
      methodsAnswered: 0,
      methodsOffline: 0,
      methodsFailed: 0,
      drops: 0,
      refusedReconnects: 0,
      renewals: 0,
      reconnects: 0,
      longestOfflineMs: 0,
      finalState: 'idle',
      pendingTimers: 0,
      hub: this.hub.stats,
      errors: {},
    };
    this.installApp();
  }

  /** Starts the device and the hub's schedule. */
  async start(): Promise<void> {
    void this.client.connect().catch(() => undefined);
    this.every(this.options.telemetryEveryMinutes ?? 5, () => this.sendTelemetry());
    this.every(this.options.desiredEveryMinutes ?? 30, () => this.patchDesired());
    this.every(this.options.methodEveryMinutes ?? 20, () => this.callMethod());
    this.every(this.options.dropEveryMinutes ?? 120, () => this.injectFault());
    await this.clock.advanceSettled(0);
  }

  /** Runs `hours` more simulated hours, one hour per slice. */
  async runHours(hours: number): Promise<void> {
    for (let h = 0; h < hours; h++) {
      await this.clock.advanceSettled(SLICE_MS);
      this.stats.simulatedHours++;
    }
  }

  /** Stops the schedule, lets everything in flight finish, tallies, and closes the client. */
  async finish(): Promise<VirtualSoakStats> {
    this.stopped = true;
    for (const handle of this.schedule) this.clock.clearTimeout(handle);
    this.schedule.clear();
    // Ten quiet minutes: enough for any reconnect backoff, pending twin request or method reply to complete.
    await this.clock.advanceSettled(10 * 60 * 1000);
    const s = this.stats;
    for (let n = 0; n < s.telemetrySent; n++) {
      const count = n < this.hub.telemetryCounts.length ? this.hub.telemetryCounts[n]! : 0;
      if (count === 0) s.telemetryMissing++;
      else s.telemetryDuplicates += count - 1;
    }
    s.telemetryUnknown = this.hub.unknownTelemetry;
    s.finalDesiredVersion = this.hub.desiredVersion;
    s.finalState = this.client.state;
    this.noteState(this.client.state);
    await this.client.close();
    // A minute more lets the hub's own timers (deliveries in flight, method timeouts) run out; what is still
    // pending then belongs to the client after close(), which promises none.
    await this.clock.advanceSettled(60_000);
    s.pendingTimers = this.clock.pendingCount;
    return s;
  }

  private every(meanMinutes: number, action: () => void): void {
    const next = (): void => {
      const ms = Math.max(1000, Math.round(meanMinutes * 60_000 * (0.5 + this.rng.next())));
      const handle = this.clock.setTimeout(() => {
        this.schedule.delete(handle);
        if (this.stopped) return;
        action();
        next();
      }, ms);
      this.schedule.add(handle);
    };
    next();
  }

  private installApp(): void {
    const s = this.stats;
    this.client.on('state', ({ state }) => this.noteState(state));
    this.client.on('connected', () => {
      s.reconnects++;
    });
    this.client.on('disconnected', ({ reason }) => {
      if (reason.code === 'renewal') s.renewals++;
    });
    this.client.on('error', (error) => {
      s.errors[error.code] = (s.errors[error.code] ?? 0) + 1;
    });
    this.client.onDesired((patch: JsonObject, version: number) => {
      if (version <= s.lastAppliedVersion) s.desiredOutOfOrder++;
      s.lastAppliedVersion = version;
      s.desiredApplied++;
      const interval = patch['interval'];
      if (typeof interval === 'number') this.reportInterval(interval, version);
    });
    this.client.onMethod('getStatus', () => ({ status: 200, payload: { uptimeMs: this.clock.now() } }));
    this.client.onMethod('slowOp', () => new Promise((resolve) => this.clock.setTimeout(() => resolve({ status: 200, payload: 'done' }), 2000)));
  }

  private noteState(state: HubState): void {
    const now = this.clock.now();
    if (state === 'connected') {
      if (this.offlineSince !== undefined) {
        this.stats.longestOfflineMs = Math.max(this.stats.longestOfflineMs, now - this.offlineSince);
        this.offlineSince = undefined;
      }
    } else if (this.offlineSince === undefined) {
      this.offlineSince = now;
    }
  }

  private sendTelemetry(): void {
    const s = this.stats;
    const id = `v-${s.telemetrySent}`;
    s.telemetrySent++;
    if (this.options.plantLeak) this.planted.push({ n: s.telemetrySent });
    this.client.sendTelemetry(`{"t":${(20 + this.rng.next() * 5).toFixed(2)}}`, { systemProperties: { messageId: id, contentType: 'application/json', contentEncoding: 'utf-8' } }).then(
      () => {
        s.telemetryAcknowledged++;
      },
      () => {
        s.telemetryRejected++;
      },
    );
  }

  private reportInterval(interval: number, version: number): void {
    const s = this.stats;
    s.reportedSent++;
    this.client.ackWritableProperty({ name: 'interval', value: interval, ackCode: 200, ackVersion: version }).then(
      () => {
        s.reportedAcknowledged++;
      },
      () => {
        s.reportedFailed++;
      },
    );
  }

  private patchDesired(): void {
    this.stats.desiredPatches++;
    this.hub.patchDesired({ interval: this.rng.int(1, 120) });
  }

  private callMethod(): void {
    const s = this.stats;
    s.methodCalls++;
    const name = this.rng.chance(0.7) ? 'getStatus' : 'slowOp';
    this.hub.invokeMethod(name, { n: s.methodCalls }).then((outcome: MethodOutcome) => {
      if (outcome.status === 200) s.methodsAnswered++;
      else if (outcome.status === 404) s.methodsOffline++;
      else s.methodsFailed++;
    });
  }

  private injectFault(): void {
    const s = this.stats;
    const roll = this.rng.next();
    if (roll < 0.2) {
      this.hub.refuseConnects(this.rng.int(1, 3));
      s.refusedReconnects++;
    }
    if (this.hub.drop(roll < 0.6 ? 'reset' : 'close')) s.drops++;
  }
}

export async function runVirtualSoak(options: VirtualSoakOptions, onHour?: (hour: number, soak: VirtualSoak) => void): Promise<VirtualSoakStats> {
  const soak = new VirtualSoak(options);
  await soak.start();
  for (let h = 0; h < options.hours; h++) {
    await soak.runHours(1);
    onHour?.(h + 1, soak);
  }
  return soak.finish();
}
