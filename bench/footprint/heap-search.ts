// The XS heap the firmware really needs on the Moddable simulator: the whole device flow (tests/moddable/
// device-flow.ts: DPS, hub over TLS, telemetry, desired change, method, C2D, SAS renewal) run in fixed heaps, with
// mcsim's instrumentation read each time. One run in a roomy heap gives the allocation peaks (XS collects rarely
// there, so they are high-water marks, not the live need); then a short search over chunk and slot sizes, from the
// ESP32-sized heap of tests/moddable/esp32-heap.test.ts, finds the smallest fixed heap in which the flow completes.
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
/** Each try builds and runs the flow (about a minute and a half); the search stops after this many. */
const MAX_TRIES = 4;

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
  const tries: HeapTry[] = [roomy];
  const attempt = async (size: HeapSize): Promise<FlowRun> => {
    const run = await runDeviceFlow({ size });
    tries.push(tried(run, size));
    log(`  ${size.chunkBytes} B chunks + ${size.slots} slots (${heapBytes(size)} B), stack ${size.stack}: ${run.complete ? 'complete' : `incomplete${run.aborted ? ` (${run.aborted})` : ''}`}`);
    return run;
  };
  const esp32Run = await attempt(ESP32_HEAP);
  const esp32 = tries[tries.length - 1]!;
  let smallest: HeapSize | undefined = esp32Run.complete ? ESP32_HEAP : undefined;
  // From the ESP32-sized heap: smaller while the flow completes (slots and chunks in turn), or larger in whatever
  // ran out until it completes. XS collects when a fixed heap fills, so only a fixed heap shows the live need.
  let size = ESP32_HEAP;
  let shrinkSlots = true;
  let last = esp32Run;
  for (let i = 0; i < MAX_TRIES; i++) {
    if (smallest !== undefined) {
      size = shrinkSlots ? { ...smallest, slots: smallest.slots - SLOT_STEP } : { ...smallest, chunkBytes: smallest.chunkBytes - CHUNK_STEP };
      shrinkSlots = !shrinkSlots;
    } else {
      const slotShort = /# Slot allocation: failed/.test(last.output);
      const chunkShort = /# Chunk allocation: failed/.test(last.output);
      const stackShort = /JavaScript stack overflow/.test(last.output);
      size = {
        chunkBytes: size.chunkBytes + (chunkShort || (!slotShort && !stackShort) ? CHUNK_STEP : 0),
        slots: size.slots + (slotShort || (!chunkShort && !stackShort) ? SLOT_STEP : 0),
        stack: size.stack + (stackShort ? 64 : 0),
      };
    }
    last = await attempt(size);
    if (last.complete && (smallest === undefined || heapBytes(size) < heapBytes(smallest))) smallest = size;
  }
  return { roomy, esp32, ...(smallest ? { smallest } : {}), tries, ourXsbBytes: first.ourXsbBytes, sdkXsbBytes: first.sdkXsbBytes, ourModules: first.ourModules };
}

export { HEAP_BUDGET_BYTES, heapBytes };
