// Fault soak: the device sends QoS 1 telemetry through the real stack (Node TLS transport, MQTT session, hub
// client, DPS client) to the emulator while the emulator injects faults at seeded random points. Checked:
// every message arrives at least once (by message id, in the emulator's telemetry stream), duplicates are
// counted, the client never gives up on a transient fault, and its memory stays bounded.

import { Emulator } from '../emulator/src/emulator';
import type { TlsMaterial } from '../emulator/src/tls-material';
import type { HubClient } from '../src/hub/hub-client';
import { Rng } from './lib/rng';
import { FAULT_KINDS, planFaults, type FaultKind, type PlannedFault } from './fault/fault-plan';
import { SoakDevice } from './fault/soak-device';

export interface FaultSoakOptions {
  seed: number;
  messages: number;
  faults: number;
  /** Messages accepted by the client and not yet acknowledged, at most (the app's own pacing). */
  window?: number;
  /** The run fails (and reports what was missing) when it has not finished by then. */
  deadlineMs?: number;
  /** Reuse TLS material across runs (RSA key generation is slow). */
  tls?: TlsMaterial;
  progress?: (line: string) => void;
}

export interface FaultSoakStats {
  seed: number;
  messages: number;
  sent: number;
  acknowledged: number;
  /** sendTelemetry promises that rejected: the client gave up on a message. */
  rejected: number;
  rejections: string[];
  /** Distinct message ids the emulator received, and how many arrived more than once. */
  receivedUnique: number;
  receivedTotal: number;
  duplicates: number;
  missing: string[];
  faultsPlanned: number;
  faultsByKind: Record<FaultKind, number>;
  /** Faults that found a live connection to cut (a cut planned while the device was reconnecting does nothing). */
  connectionsCut: number;
  connects: number;
  reconnectingEvents: number;
  maxBackoffMs: number;
  authFailures: number;
  provisioningRuns: number;
  provisioningRetries: number;
  dpsErrorsInjected: number;
  /** DPS requests the emulator answered with an error status (the DPS client retried them itself). */
  dpsErrorAnswers: number;
  twinRequests: number;
  twinSucceeded: number;
  twinFailed: number;
  twinFailures: string[];
  /** heapUsed samples in MB over the run. */
  heapSamplesMb: number[];
  pendingTelemetryAtEnd: number;
  finalState: string;
  timedOut: boolean;
  elapsedMs: number;
  logLines: number;
}

export const SOAK_DEVICE_ID = 'soak-device';
const SOAK_HUB_NAME = 'soak-hub.azure-devices.net';
/** A fixed test key (32 bytes of a counter), never a real one. */
export const SOAK_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

function mb(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

export async function runFaultSoak(options: FaultSoakOptions): Promise<FaultSoakStats> {
  const started = Date.now();
  const rng = new Rng(options.seed);
  const plan = planFaults(rng.fork(), options.messages, options.faults);
  const window = options.window ?? 48;
  const deadlineMs = options.deadlineMs ?? 10 * 60_000;
  const progress = options.progress ?? (() => undefined);

  const faultsByKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const stats: FaultSoakStats = {
    seed: options.seed,
    messages: options.messages,
    sent: 0,
    acknowledged: 0,
    rejected: 0,
    rejections: [],
    receivedUnique: 0,
    receivedTotal: 0,
    duplicates: 0,
    missing: [],
    faultsPlanned: plan.length,
    faultsByKind,
    connectionsCut: 0,
    connects: 0,
    reconnectingEvents: 0,
    maxBackoffMs: 0,
    authFailures: 0,
    provisioningRuns: 0,
    provisioningRetries: 0,
    dpsErrorsInjected: 0,
    dpsErrorAnswers: 0,
    twinRequests: 0,
    twinSucceeded: 0,
    twinFailed: 0,
    twinFailures: [],
    heapSamplesMb: [],
    pendingTelemetryAtEnd: 0,
    finalState: 'not started',
    timedOut: false,
    elapsedMs: 0,
    logLines: 0,
  };

  const emulator = await Emulator.start({ persist: false, hubHostName: SOAK_HUB_NAME, telemetryHistory: 10, ...(options.tls ? { tls: options.tls } : {}) });
  const dps = emulator.dps;
  if (dps === undefined) throw new Error('the emulator started without DPS');
  dps.enrollments.addIndividual({
    registrationId: SOAK_DEVICE_ID,
    attestation: { type: 'symmetricKey', primaryKey: SOAK_KEY, secondaryKey: SOAK_KEY },
    pollsBeforeAssigned: 1,
    retryAfterSeconds: 0,
  });

  const stopDpsWatch = dps.on('request', (event) => {
    if (typeof event.status === 'number' && event.status >= 400) stats.dpsErrorAnswers++;
  });

  const received = new Map<string, number>();
  const unsubscribe = emulator.on('telemetry', (message) => {
    const id = message.systemProperties['$.mid'];
    if (typeof id !== 'string') return;
    stats.receivedTotal++;
    received.set(id, (received.get(id) ?? 0) + 1);
  });

  const device = new SoakDevice({
    idScope: dps.idScope,
    registrationId: SOAK_DEVICE_ID,
    key: SOAK_KEY,
    trustedCAs: [emulator.caDer],
    dpsEndpoint: `127.0.0.1:${dps.port}`,
    hubPort: emulator.hubPort,
    serverName: 'localhost',
    hub: { ackTimeoutMs: 400, maxPendingTelemetry: window + 16, maxInflightTelemetry: 16, operationTimeoutMs: 60_000, renewalDrainTimeoutMs: 1000 },
    onLog: () => {
      stats.logLines++;
    },
  });

  const settled: Promise<unknown>[] = [];
  let outstanding = 0;
  let slotFreed: (() => void) | undefined;
  const freeSlot = (): void => {
    outstanding--;
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
  };

  const issueTwinPatch = (client: HubClient, n: number): void => {
    stats.twinRequests++;
    settled.push(
      client.patchReported({ soak: { fault: n } }).then(
        () => {
          stats.twinSucceeded++;
        },
        (error: unknown) => {
          stats.twinFailed++;
          if (stats.twinFailures.length < 10) stats.twinFailures.push(String(error));
        },
      ),
    );
  };

  const applyFault = (client: HubClient, fault: PlannedFault, n: number): void => {
    faultsByKind[fault.kind]++;
    const faults = emulator.faults;
    const cut = (count: number): void => {
      if (count > 0) stats.connectionsCut++;
    };
    switch (fault.kind) {
      case 'kill':
        cut(faults.dropConnection(SOAK_DEVICE_ID));
        break;
      case 'graceful-close':
        cut(faults.dropConnection(SOAK_DEVICE_ID, { graceful: true }));
        break;
      case 'mid-packet':
        faults.dropMidPacket(SOAK_DEVICE_ID);
        break;
      case 'after-bytes':
        faults.dropAfterBytes(SOAK_DEVICE_ID, fault.amount);
        break;
      case 'withhold-puback':
        faults.withholdPubacks(SOAK_DEVICE_ID, { count: fault.amount });
        break;
      case 'twin-429':
        faults.twinResponses(SOAK_DEVICE_ID, { status: 429 }, { count: fault.amount });
        issueTwinPatch(client, n);
        break;
      case 'twin-5xx':
        faults.twinResponses(SOAK_DEVICE_ID, { status: fault.status }, { count: fault.amount });
        issueTwinPatch(client, n);
        break;
      case 'connack-3':
        faults.refuseConnect(SOAK_DEVICE_ID, 3, { count: fault.amount });
        cut(faults.dropConnection(SOAK_DEVICE_ID));
        break;
      case 'auth-failure':
        if (fault.amount > 0) {
          dps.faults.answerWith({ status: fault.status, count: fault.amount, retryAfterSeconds: 0 });
          stats.dpsErrorsInjected += fault.amount;
        }
        faults.refuseConnect(SOAK_DEVICE_ID, 5, { count: 1 });
        cut(faults.dropConnection(SOAK_DEVICE_ID));
        break;
    }
  };

  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    deadlineTimer = setTimeout(() => resolve('timeout'), deadlineMs);
  });

  const run = async (): Promise<void> => {
    // Provisioning itself meets DPS errors first.
    dps.faults.answerWith({ status: 503, count: 2, retryAfterSeconds: 0 });
    stats.dpsErrorsInjected += 2;
    const client = await device.start();
    client.on('connected', () => {
      stats.connects++;
    });
    client.on('reconnecting', ({ delayMs }) => {
      stats.reconnectingEvents++;
      if (delayMs > stats.maxBackoffMs) stats.maxBackoffMs = delayMs;
    });
    client.on('error', (error) => {
      if (error.code === 'auth-failed') stats.authFailures++;
    });

    const sampleEvery = Math.max(1, Math.floor(options.messages / 40));
    let nextFault = 0;
    for (let i = 0; i < options.messages; i++) {
      while (outstanding >= window) await new Promise<void>((resolve) => (slotFreed = resolve));
      const id = `m-${options.seed}-${i}`;
      outstanding++;
      stats.sent++;
      settled.push(
        client
          .sendTelemetry(`{"seq":${i}}`, { systemProperties: { messageId: id, contentType: 'application/json', contentEncoding: 'utf-8' } })
          .then(
            () => {
              stats.acknowledged++;
            },
            (error: unknown) => {
              stats.rejected++;
              if (stats.rejections.length < 10) stats.rejections.push(`${id}: ${String(error)}`);
            },
          )
          .finally(freeSlot),
      );
      while (nextFault < plan.length && plan[nextFault]!.afterMessage <= i + 1) applyFault(client, plan[nextFault]!, nextFault++);
      if (i % sampleEvery === 0) {
        stats.heapSamplesMb.push(mb(process.memoryUsage().heapUsed));
        if (i > 0) progress(`fault soak: ${i} sent, ${stats.acknowledged} acknowledged, ${nextFault} faults, ${stats.connects} reconnects`);
      }
    }
    await Promise.all(settled);
  };

  try {
    const outcome = await Promise.race([run().then(() => 'done' as const), deadline]);
    stats.timedOut = outcome === 'timeout';
  } finally {
    clearTimeout(deadlineTimer);
    stats.heapSamplesMb.push(mb(process.memoryUsage().heapUsed));
    if (!stats.timedOut || stats.sent > 0) {
      try {
        stats.pendingTelemetryAtEnd = device.hub.pendingTelemetry;
        stats.finalState = device.hub.state;
      } catch {
        stats.finalState = 'never started';
      }
    }
    stats.provisioningRuns = device.provisioning.runs;
    stats.provisioningRetries = device.provisioning.retries;
    for (let i = 0; i < stats.sent; i++) {
      const id = `m-${options.seed}-${i}`;
      const count = received.get(id) ?? 0;
      if (count === 0) {
        if (stats.missing.length < 20) stats.missing.push(id);
      } else {
        stats.receivedUnique++;
        stats.duplicates += count - 1;
      }
    }
    unsubscribe();
    stopDpsWatch();
    await device.close();
    await emulator.stop();
    stats.elapsedMs = Date.now() - started;
  }
  return stats;
}

export function describeFaultSoak(s: FaultSoakStats): string[] {
  const kinds = FAULT_KINDS.map((k) => `${k} ${s.faultsByKind[k]}`).join(', ');
  const heap = s.heapSamplesMb;
  return [
    `fault soak seed ${s.seed}: ${s.sent} sent, ${s.acknowledged} acknowledged, ${s.rejected} rejected; ` +
      `${s.receivedUnique} distinct received (${s.missing.length} missing), ${s.receivedTotal} deliveries, ${s.duplicates} duplicates`,
    `faults: ${s.faultsPlanned} injected (${kinds}); ${s.connectionsCut} cut a live connection; ${s.connects} reconnects, ` +
      `${s.reconnectingEvents} backoffs (longest ${Math.round(s.maxBackoffMs)} ms), ${s.authFailures} auth failures, ` +
      `${s.provisioningRuns} DPS registrations through ${s.dpsErrorAnswers} DPS error answers (${s.dpsErrorsInjected} injected)`,
    `twin: ${s.twinRequests} patches under faults, ${s.twinSucceeded} succeeded, ${s.twinFailed} failed; ` +
      `heapUsed MB first ${heap[0]}, max ${Math.max(...heap)}, last ${heap[heap.length - 1]}; ` +
      `end state ${s.finalState}, ${s.pendingTelemetryAtEnd} pending, ${s.logLines} log lines, ${(s.elapsedMs / 1000).toFixed(1)} s${s.timedOut ? ' (TIMED OUT)' : ''}`,
  ];
}
