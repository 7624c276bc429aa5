// The whole device flow on the Moddable simulator in a fixed XS heap: manifest.json built with mcconfig (release,
// instrumented) and a `creation` that gives XS fixed chunk and slot sizes with no growth, the way Moddable's ESP32
// targets set them (`creation.static` is ignored on lin), then mcsim against the emulator: DPS registration, the
// hub over TLS, telemetry, a desired-property change, a direct method, a C2D message and one SAS renewal.
// Shared by tests/moddable/esp32-heap.test.ts and the footprint benchmark's heap search.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import type { ConnectionEvent } from '../../emulator/src/hub/hub-events';
import type { MethodResult } from '../../emulator/src/hub/methods';
import { deviceGraph, optInGraph } from '../../scripts/moddable-manifest.mjs';
import { buildForSimulator, emulatorSettings, groupAlive, listFiles, REPO, Simulator, sleep, waitUntil, type Built } from './mcsim-harness';

export const REGISTRATION_ID = 'mcsim-heap-device';
const GROUP_ID = 'mcsim-heap-fleet';
/** Short enough that one renewal (at 80 % of the token's life) happens inside the run. */
export const FLOW_SAS_TTL_SECONDS = 20;

export interface HeapSize {
  /** XS chunk heap, bytes, no growth. */
  chunkBytes: number;
  /** XS slot heap, in slots (32 B each on lin, 16 B on an ESP32), no growth. */
  slots: number;
  /** XS stack, in slots. */
  stack: number;
}

/** The ESP32-sized budget: chunks plus slots at lin's 32 B a slot (an ESP32's 16 B slots leave more room). */
export const HEAP_BUDGET_BYTES = 114_688;
/** Within the budget, with Moddable's ESP32-C3 stack of 384 slots. */
export const ESP32_HEAP: HeapSize = { chunkBytes: 25_600, slots: 2_784, stack: 384 };

/** On lin a slot is 32 bytes. */
export const LIN_SLOT_BYTES = 32;

export function heapBytes(size: HeapSize): number {
  return size.chunkBytes + size.slots * LIN_SLOT_BYTES;
}

export interface Peaks {
  chunkBytes: number;
  slotBytes: number;
  stackSlots: number;
  /** The last instrumentation sample before the run ended (idle, connected). */
  lastChunkBytes: number;
  lastSlotBytes: number;
  samples: number;
}

export interface FlowSteps {
  assigned: boolean;
  connected: boolean;
  telemetry: number;
  desiredAcknowledged: boolean;
  method: MethodResult | undefined;
  c2dCompleted: boolean;
  renewed: boolean;
}

export interface FlowRun {
  build: Built;
  steps: FlowSteps;
  /** Every step seen. */
  complete: boolean;
  /** XS reported it ran out of memory or stack. */
  aborted: string | undefined;
  peaks: Peaks | undefined;
  /** .xsb bytes of our own modules (src/ and hosts/) in this build, and of everything else (the SDK's). */
  ourXsbBytes: number;
  sdkXsbBytes: number;
  ourModules: number;
  log: string[];
  output: string;
  leftover: boolean;
  ms: number;
}

function column(keys: string[], name: string): number {
  return keys.indexOf(name);
}

/**
 * The peaks of mcsim's instrumentation (mcconfig -i): an `instruments key:` line names the columns, then an
 * `instruments:` line of numbers comes every second. XS reports slots and the stack peak in bytes.
 */
export function instrumentationPeaks(output: string): Peaks | undefined {
  let keys: string[] = [];
  const peaks: Peaks = { chunkBytes: 0, slotBytes: 0, stackSlots: 0, lastChunkBytes: 0, lastSlotBytes: 0, samples: 0 };
  for (const line of output.split('\n')) {
    if (line.startsWith('instruments key: ')) {
      keys = line.slice('instruments key: '.length).split(',');
      continue;
    }
    if (!line.startsWith('instruments: ') || keys.length === 0) continue;
    const values = line.slice('instruments: '.length).split(',').map(Number);
    const at = (name: string): number => values[column(keys, name)] ?? 0;
    peaks.lastChunkBytes = at('Chunk used');
    peaks.lastSlotBytes = at('Slot used');
    peaks.chunkBytes = Math.max(peaks.chunkBytes, peaks.lastChunkBytes);
    peaks.slotBytes = Math.max(peaks.slotBytes, peaks.lastSlotBytes);
    peaks.stackSlots = Math.max(peaks.stackSlots, at('Stack used') / LIN_SLOT_BYTES);
    peaks.samples++;
  }
  return peaks.samples === 0 ? undefined : peaks;
}

function abortIn(output: string): string | undefined {
  const found = /(XS abort: [^\n]*|# Slot allocation: failed[^\n]*|# Chunk allocation: failed[^\n]*|JavaScript stack overflow|native stack overflow)/.exec(output);
  return found?.[0];
}

export interface FlowOptions {
  size: HeapSize;
  /** The whole run after the build; default 150 s. */
  timeoutMs?: number;
  /** Keep the work folder (for a person to look at). */
  keep?: boolean;
  /** DPS and the hub over MQTT over WebSockets (`transport=mqtt-ws`), to the emulator's WebSocket endpoints. */
  webSockets?: boolean;
}

/** Builds, runs and tears down one flow; never throws for a flow that fails (the result says what was missing). */
export async function runDeviceFlow(options: FlowOptions): Promise<FlowRun> {
  const started = Date.now();
  const emulator = await Emulator.start({ persist: false, hubHostName: 'localhost', ...(options.webSockets ? { hubWsPort: 0, dpsWsPort: 0 } : {}) });
  const work = mkdtempSync(join(tmpdir(), 'moddable-heap-'));
  let simulator: Simulator | undefined;
  try {
    const dps = emulator.dps;
    if (!dps) throw new Error('the emulator started without DPS');
    const groupKey = randomBytes(32).toString('base64');
    dps.enrollments.addGroup({
      enrollmentGroupId: GROUP_ID,
      attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: randomBytes(32).toString('base64') },
    });
    const steps: FlowSteps = { assigned: false, connected: false, telemetry: 0, desiredAcknowledged: false, method: undefined, c2dCompleted: false, renewed: false };
    const connections: ConnectionEvent[] = [];
    dps.on('assigned', () => (steps.assigned = true));
    emulator.on('connection', (event) => {
      if (event.type === 'connected' && event.deviceId === REGISTRATION_ID) connections.push(event);
      steps.connected = connections.length > 0;
      steps.renewed = connections.length > 1;
    });
    emulator.on('telemetry', (message) => {
      if (message.deviceId === REGISTRATION_ID) steps.telemetry++;
    });
    emulator.on('twin', (event) => {
      const ack = event.patch['telemetryInterval'] as { ac?: number; av?: number } | undefined;
      if (event.section === 'reported' && event.deviceId === REGISTRATION_ID && ack?.ac === 200) steps.desiredAcknowledged = true;
    });
    emulator.on('c2d', (event) => {
      if (event.deviceId === REGISTRATION_ID && event.outcome === 'completed') steps.c2dCompleted = true;
    });

    for (const dir of ['app', 'prefs', 'build', 'tmp']) mkdirSync(join(work, dir));
    const { chunkBytes, slots, stack } = options.size;
    // Preloaded as on an ESP32 (manifest.json's esp32 section): the modules that reach Preference too. Moddable's
    // Linux Preference cannot save once preloaded, which this flow does not need; it measures the board's image.
    const { boardOnly } = await deviceGraph();
    const wsBoardOnly = options.webSockets ? (await optInGraph('hosts/moddable/main-ws.ts')).boardOnly : [];
    const manifest = {
      // MQTT over WebSockets is an opt-in (hosts/moddable/manifest_ws.json makes main-ws the main module).
      include: [join(REPO, 'manifest.json'), ...(options.webSockets ? [join(REPO, 'hosts/moddable/manifest_ws.json')] : [])],
      preload: [...boardOnly, ...wsBoardOnly],
      creation: {
        chunk: { initial: chunkBytes, incremental: 0 },
        heap: { initial: slots, incremental: 0 },
        stack,
      },
      config: { file: { root: `${join(work, 'prefs')}/` } },
    };
    writeFileSync(join(work, 'app/manifest.json'), JSON.stringify(manifest, null, 2));
    const settings = [
      ...emulatorSettings({ idScope: dps.idScope, registrationId: REGISTRATION_ID, groupKey, dpsPort: dps.port, hubPort: emulator.hubPort, caDer: emulator.caDer }),
      'telemetryIntervalMs=2000',
      `sasTtlSeconds=${FLOW_SAS_TTL_SECONDS}`,
      // The simulator defaults to the desktop budgets; a board's are what this heap is for.
      'deviceProfile=esp32',
      ...(options.webSockets ? ['transport=mqtt-ws', `hubWsEndpoint=localhost:${emulator.hubWsPort}`, `dpsWsEndpoint=localhost:${emulator.dpsWsPort}`] : []),
    ];
    const build = await buildForSimulator(work, ['-i', '-t', 'build', '-o', join(work, 'build'), join(work, 'app/manifest.json'), ...settings]);
    const xsbs = listFiles(join(work, 'build/tmp'), '.xsb');
    const ours = xsbs.filter((path) => /\/modules\/(src|hosts)\//.test(path));
    const size = (paths: string[]): number => paths.reduce((sum, path) => sum + statSync(path).size, 0);
    const result: FlowRun = {
      build,
      steps,
      complete: false,
      aborted: undefined,
      peaks: undefined,
      ourXsbBytes: size(ours),
      sdkXsbBytes: size(xsbs) - size(ours),
      ourModules: ours.length,
      log: [],
      output: '',
      leftover: false,
      ms: 0,
    };
    if (!build.library) return result;

    simulator = new Simulator(build.library, work, join(work, 'tmp'));
    const sim = simulator;
    const deadline = Date.now() + (options.timeoutMs ?? 150_000);
    const left = (): number => Math.max(0, deadline - Date.now());
    const gone = (): boolean => !sim.running || abortIn(sim.output) !== undefined;

    if (await waitUntil(() => steps.connected && steps.telemetry > 0, left(), gone)) {
      emulator.patchDesired(REGISTRATION_ID, { telemetryInterval: 3000 });
      await waitUntil(() => steps.desiredAcknowledged, Math.min(left(), 20_000), gone);
      result.steps.method = await emulator.invokeMethod(REGISTRATION_ID, 'getStatus', {}, { timeoutMs: Math.min(left(), 20_000) }).catch(() => undefined);
      emulator.sendC2D(REGISTRATION_ID, 'hello from the heap test');
      await waitUntil(() => steps.c2dCompleted, Math.min(left(), 20_000), gone);
      // The renewal is due at 80 % of the token's life after the first connection.
      await waitUntil(() => steps.renewed && steps.telemetry > 0, left(), gone);
      // One more sample connected after the renewal, for the idle-connected figure.
      await sleep(1500);
    }
    const pgid = sim.pgid;
    await sim.stop();
    result.leftover = pgid !== undefined && groupAlive(pgid);
    result.output = sim.output;
    result.log = sim.output.split('\n').filter((line) => line.startsWith('['));
    result.aborted = abortIn(sim.output);
    result.peaks = instrumentationPeaks(sim.output);
    result.complete =
      steps.assigned && steps.connected && steps.telemetry > 0 && steps.desiredAcknowledged && steps.method?.status === 200 && steps.c2dCompleted && steps.renewed;
    result.ms = Date.now() - started;
    return result;
  } finally {
    await simulator?.stop();
    await emulator.stop();
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
}
