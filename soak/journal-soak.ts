// Journal soak: telemetry through the flash journal (src/storage/telemetry-journal.ts on the Node file store) from a
// separate device process (soak/journal/journal-device.ts) to the emulator, while the run injects seeded faults:
// connections killed or closed, cut mid-packet or after N bytes, PUBACKs withheld, connections refused (CONNACK 3),
// hub outages (every connection refused for outageMs), and the device process killed with SIGKILL and started
// again. Checked: every reading 0..messages-1 reaches the hub at least once, every reading the device was told was
// journaled among them, first arrivals in increasing order within each device process ("boot"), and every
// duplicate carries the $.mid of the original, so the cloud can drop it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../emulator/src/emulator';
import type { TlsMaterial } from '../emulator/src/tls-material';
import { Rng } from './lib/rng';
import type { JournalDeviceConfig } from './journal/journal-device';

export const JOURNAL_FAULT_KINDS = ['kill-9', 'drop', 'graceful-close', 'mid-packet', 'after-bytes', 'withhold-puback', 'connack-3', 'outage'] as const;
export type JournalFaultKind = (typeof JOURNAL_FAULT_KINDS)[number];

const WEIGHTS: Record<JournalFaultKind, number> = {
  'kill-9': 5,
  drop: 4,
  'graceful-close': 2,
  'mid-packet': 2,
  'after-bytes': 2,
  'withhold-puback': 2,
  'connack-3': 3,
  outage: 0, // placed explicitly: a few, evenly spread
};

export interface JournalSoakOptions {
  seed: number;
  messages: number;
  faults: number;
  /** How long the longest outages last (the hub refuses every connection meanwhile). */
  outageMs: number;
  /** Outages among the faults; the first two last outageMs, the others a tenth of it. Default max(2, faults / 25). */
  outages?: number;
  /** One reading per intervalMs on the device. Default 20. */
  intervalMs?: number;
  tls?: TlsMaterial;
  deadlineMs?: number;
  progress?: (line: string) => void;
}

export interface JournalSoakStats {
  seed: number;
  messages: number;
  receivedTotal: number;
  receivedUnique: number;
  duplicates: number;
  /** Duplicates whose $.mid differs from the first copy's (must be 0). */
  midMismatches: number;
  missing: number[];
  journaled: number;
  journaledMissing: number[];
  boots: number;
  orderViolations: string[];
  faultsByKind: Record<JournalFaultKind, number>;
  outageMs: number[];
  deviceWarnings: string[];
  /** The journal's drop count as the last device process started with it (must stay 0: the budget holds an outage). */
  depthAtBoots: number[];
  connections: number;
  timedOut: boolean;
  elapsedMs: number;
}

const DEVICE_ID = 'journal-soak';
const DEVICE_ENTRY = fileURLToPath(new URL('./journal/journal-device.ts', import.meta.url));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runJournalSoak(options: JournalSoakOptions): Promise<JournalSoakStats> {
  const started = Date.now();
  const rng = new Rng(options.seed);
  const progress = options.progress ?? (() => undefined);
  const deadlineMs = options.deadlineMs ?? 30 * 60_000;
  const stats: JournalSoakStats = {
    seed: options.seed,
    messages: options.messages,
    receivedTotal: 0,
    receivedUnique: 0,
    duplicates: 0,
    midMismatches: 0,
    missing: [],
    journaled: 0,
    journaledMissing: [],
    boots: 0,
    orderViolations: [],
    faultsByKind: Object.fromEntries(JOURNAL_FAULT_KINDS.map((k) => [k, 0])) as Record<JournalFaultKind, number>,
    outageMs: [],
    deviceWarnings: [],
    depthAtBoots: [],
    connections: 0,
    timedOut: false,
    elapsedMs: 0,
  };

  // The plan: after which count of distinct readings received each fault comes.
  const outages = Math.min(options.faults, options.outages ?? Math.max(2, Math.floor(options.faults / 25)));
  const kinds: JournalFaultKind[] = [];
  const others = JOURNAL_FAULT_KINDS.filter((k) => WEIGHTS[k] > 0);
  const total = others.reduce((sum, k) => sum + WEIGHTS[k], 0);
  for (let i = 0; i < options.faults; i++) {
    let r = rng.next() * total;
    let kind: JournalFaultKind = 'drop';
    for (const k of others) {
      r -= WEIGHTS[k];
      if (r < 0) {
        kind = k;
        break;
      }
    }
    kinds.push(kind);
  }
  for (let i = 0; i < outages; i++) kinds[Math.floor(((i + 0.5) * options.faults) / outages)] = 'outage';
  const thresholds = kinds.map((_, i) => Math.floor(((i + 1) * options.messages) / (options.faults + 1)));

  const emulator = await Emulator.start({ persist: false, hubPort: 0, dps: false, telemetryHistory: 10, ...(options.tls ? { tls: options.tls } : {}) });
  emulator.addDevice(DEVICE_ID);
  const dir = mkdtempSync(join(tmpdir(), 'journal-soak-'));
  const deviceConfig: JournalDeviceConfig = {
    connectionString: emulator.connectionString(DEVICE_ID),
    caDerBase64: Buffer.from(emulator.caDer).toString('base64'),
    port: emulator.hubPort,
    storePath: join(dir, 'device.store'),
    total: options.messages,
    intervalMs: options.intervalMs ?? 20,
    budgetBytes: 1024 * 1024,
    segmentBytes: 8192,
    flushMs: 200,
  };

  const seen = new Map<number, string>();
  const journaled = new Set<number>();
  let bootSeen = new Set<number>();
  let bootLast = -1;
  emulator.on('connection', (event) => {
    if (event.type === 'connected') stats.connections++;
  });
  emulator.on('telemetry', (message) => {
    if (message.deviceId !== DEVICE_ID) return;
    const k = Number(message.properties['k']);
    const mid = message.systemProperties['$.mid'] ?? '';
    stats.receivedTotal++;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, mid);
    else {
      stats.duplicates++;
      if (first !== mid) stats.midMismatches++;
    }
    if (!bootSeen.has(k)) {
      bootSeen.add(k);
      if (k <= bootLast && stats.orderViolations.length < 20) stats.orderViolations.push(`boot ${stats.boots}: ${k} after ${bootLast}`);
      bootLast = Math.max(bootLast, k);
    }
  });

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const startDevice = (): void => {
    stats.boots++;
    bootSeen = new Set();
    bootLast = -1;
    const proc = spawn(process.execPath, ['--import', 'tsx', DEVICE_ENTRY], {
      env: { ...process.env, JOURNAL_DEVICE: JSON.stringify(deviceConfig) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('J ')) journaled.add(Number(line.slice(2)));
      else if (line.startsWith('B ')) stats.depthAtBoots.push(Number(line.split(' ')[2]));
      else if (line.startsWith('W ') && stats.deviceWarnings.length < 50) stats.deviceWarnings.push(line.slice(2));
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      if (stats.deviceWarnings.length < 50) stats.deviceWarnings.push(`stderr: ${line}`);
    });
  };

  const apply = async (kind: JournalFaultKind, index: number): Promise<void> => {
    stats.faultsByKind[kind]++;
    switch (kind) {
      case 'kill-9': {
        child?.kill('SIGKILL');
        await exited;
        await sleep(rng.int(20, 300));
        startDevice();
        return;
      }
      case 'drop':
        emulator.faults.dropConnection(DEVICE_ID);
        return;
      case 'graceful-close':
        emulator.faults.dropConnection(DEVICE_ID, { graceful: true });
        return;
      case 'mid-packet':
        emulator.faults.dropMidPacket(DEVICE_ID);
        return;
      case 'after-bytes':
        emulator.faults.dropAfterBytes(DEVICE_ID, rng.int(1, 40));
        return;
      case 'withhold-puback':
        emulator.faults.withholdPubacks(DEVICE_ID, { count: rng.int(1, 5) });
        return;
      case 'connack-3':
        emulator.faults.refuseConnect(DEVICE_ID, 3, { count: rng.int(1, 3) });
        emulator.faults.dropConnection(DEVICE_ID);
        return;
      case 'outage': {
        const long = stats.outageMs.length < 2;
        const ms = long ? options.outageMs : Math.max(200, Math.floor(options.outageMs / 10));
        stats.outageMs.push(ms);
        progress(`  journal soak: hub outage of ${ms} ms (fault ${index + 1}), ${seen.size} readings received so far`);
        emulator.faults.refuseConnect(DEVICE_ID, 3, { durationMs: ms });
        emulator.faults.dropConnection(DEVICE_ID);
        await sleep(ms);
        return;
      }
    }
  };

  startDevice();
  let next = 0;
  let lastReport = 0;
  try {
    while (seen.size < options.messages) {
      if (Date.now() - started > deadlineMs) {
        stats.timedOut = true;
        break;
      }
      if (next < kinds.length && seen.size >= thresholds[next]!) {
        await apply(kinds[next]!, next);
        next++;
        continue;
      }
      if (seen.size - lastReport >= Math.max(500, options.messages / 10)) {
        lastReport = seen.size;
        progress(`  journal soak: ${seen.size}/${options.messages} received, ${next} faults, ${stats.boots} boots`);
      }
      await sleep(10);
    }
    // Faults planned past the end (a threshold rounding) are applied anyway, so the counts match the plan.
    while (next < kinds.length && !stats.timedOut) await apply(kinds[next++]!, next);
  } finally {
    child?.kill('SIGKILL');
    await exited;
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  stats.receivedUnique = seen.size;
  stats.journaled = journaled.size;
  for (let k = 0; k < options.messages; k++) if (!seen.has(k)) stats.missing.push(k);
  for (const k of journaled) if (!seen.has(k)) stats.journaledMissing.push(k);
  stats.elapsedMs = Date.now() - started;
  return stats;
}

/** The problems, one line each; empty when every property held. */
export function journalSoakProblems(s: JournalSoakStats): string[] {
  const problems: string[] = [];
  if (s.timedOut) problems.push(`journal soak: timed out with ${s.receivedUnique}/${s.messages} received`);
  if (s.missing.length > 0) problems.push(`journal soak: ${s.missing.length} reading(s) never reached the hub (first ${s.missing.slice(0, 10).join(', ')})`);
  if (s.journaledMissing.length > 0) problems.push(`journal soak: ${s.journaledMissing.length} journaled reading(s) lost`);
  if (s.midMismatches > 0) problems.push(`journal soak: ${s.midMismatches} duplicate(s) with another $.mid`);
  for (const v of s.orderViolations) problems.push(`journal soak: out of order in ${v}`);
  for (const w of s.deviceWarnings) if (/dropped|journal full|skipped/.test(w)) problems.push(`journal soak: device warned: ${w}`);
  return problems;
}

export function describeJournalSoak(s: JournalSoakStats): string[] {
  const faults = JOURNAL_FAULT_KINDS.map((k) => `${k} ${s.faultsByKind[k]}`).join(', ');
  const total = JOURNAL_FAULT_KINDS.reduce((sum, k) => sum + s.faultsByKind[k], 0);
  return [
    `journal soak (seed ${s.seed}): ${s.messages} readings, ${s.receivedUnique} distinct received, ${s.missing.length} missing, ${s.duplicates} duplicates (${s.midMismatches} with another $.mid), ${s.receivedTotal} received in all`,
    `  ${s.journaled} journaled as the device saw it (${s.journaledMissing.length} of them missing); ${s.boots} device processes (${s.faultsByKind['kill-9']} SIGKILLs), backlog at each start: max ${Math.max(0, ...s.depthAtBoots)}; ${s.connections} connections`,
    `  ${total} faults: ${faults}; outages ${s.outageMs.join(', ')} ms; order violations ${s.orderViolations.length}; ${(s.elapsedMs / 1000).toFixed(0)} s`,
  ];
}
