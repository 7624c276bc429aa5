// The XS heap the firmware really needs on the Moddable simulator: the whole device flow (tests/moddable/
// device-flow.ts: DPS, hub over TLS, telemetry, desired change, method, C2D, SAS renewal) run in fixed heaps, with
// mcsim's instrumentation read each time. One run in a roomy heap gives the peaks; then a short search over chunk
// and slot sizes, from the peaks upwards, finds the smallest fixed heap in which the flow completes.
import { ESP32_HEAP, HEAP_BUDGET_BYTES, heapBytes, runDeviceFlow, type FlowRun, type HeapSize, type Peaks } from '../../tests/moddable/device-flow';

export interface HeapTry {
  size: HeapSize;
  complete: boolean;
  aborted?: string;
  peaks?: Peaks;
}

export interface HeapSearch {
  /** The roomy run: its peaks are the memory the flow touches when nothing is short. */
  roomy: HeapTry;
  /** The ESP32-sized heap of tests/moddable/esp32-heap.test.ts. */
  esp32: HeapTry;
  /** The smallest heap found in which the flow completed, if any. */
  smallest?: HeapSize;
  tries: HeapTry[];
  ourXsbBytes: number;
  sdkXsbBytes: number;
  ourModules: number;
}

const ROOMY: HeapSize = { chunkBytes: 65_536, slots: 8_192, stack: 1_024 };
const CHUNK_STEP = 2_048;
const SLOT_STEP = 128;
/** Each try builds and runs the flow (about a minute); the search stops after this many. */
const MAX_TRIES = 5;

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function tried(run: FlowRun, size: HeapSize): HeapTry {
  const result: HeapTry = { size, complete: run.complete };
  if (run.aborted !== undefined) result.aborted = run.aborted;
  if (run.peaks !== undefined) result.peaks = run.peaks;
  return result;
}

export async function searchSmallestHeap(log: (line: string) => void): Promise<HeapSearch> {
  const first = await runDeviceFlow({ size: ROOMY });
  const roomy = tried(first, ROOMY);
  log(`  roomy heap ${heapBytes(ROOMY)} B: ${first.complete ? 'complete' : 'incomplete'}`);
  const esp32Run = await runDeviceFlow({ size: ESP32_HEAP });
  const esp32 = tried(esp32Run, ESP32_HEAP);
  log(`  ESP32-sized heap ${heapBytes(ESP32_HEAP)} B, stack ${ESP32_HEAP.stack}: ${esp32Run.complete ? 'complete' : `incomplete${esp32Run.aborted ? ` (${esp32Run.aborted})` : ''}`}`);
  const tries: HeapTry[] = [roomy, esp32];
  let smallest: HeapSize | undefined = esp32.complete ? ESP32_HEAP : undefined;
  const peaks = first.peaks;
  if (peaks !== undefined) {
    // Start at the peaks, rounded up, with the stack the flow used; grow what ran out, until it completes.
    let size: HeapSize = {
      chunkBytes: roundUp(peaks.chunkBytes, CHUNK_STEP),
      slots: roundUp(peaks.slotBytes / 32, SLOT_STEP),
      stack: Math.max(ESP32_HEAP.stack, roundUp(peaks.stackSlots, 64)),
    };
    for (let i = 0; i < MAX_TRIES; i++) {
      if (smallest !== undefined && heapBytes(size) >= heapBytes(smallest)) break;
      const run = await runDeviceFlow({ size });
      const attempt = tried(run, size);
      tries.push(attempt);
      log(`  ${size.chunkBytes} B chunks + ${size.slots} slots (${heapBytes(size)} B), stack ${size.stack}: ${run.complete ? 'complete' : `incomplete${run.aborted ? ` (${run.aborted})` : ''}`}`);
      if (run.complete) {
        smallest = size;
        break;
      }
      const slotShort = /# Slot allocation: failed/.test(run.output);
      const chunkShort = /# Chunk allocation: failed/.test(run.output);
      const stackShort = /JavaScript stack overflow/.test(run.output);
      size = {
        chunkBytes: size.chunkBytes + (chunkShort || (!slotShort && !stackShort) ? CHUNK_STEP : 0),
        slots: size.slots + (slotShort || (!chunkShort && !stackShort) ? SLOT_STEP : 0),
        stack: size.stack + (stackShort ? 64 : 0),
      };
    }
  }
  return { roomy, esp32, ...(smallest ? { smallest } : {}), tries, ourXsbBytes: first.ourXsbBytes, sdkXsbBytes: first.sdkXsbBytes, ourModules: first.ourModules };
}

export { HEAP_BUDGET_BYTES, heapBytes };
