// The firmware in an ESP32-sized XS heap: manifest.json built for the Linux simulator with fixed chunk and slot
// sizes and no growth (how Moddable's ESP32 targets set them; `creation.static` is ignored on lin) adding up to
// 114,688 B at lin's 32 B a slot (an ESP32's 16 B slots leave more room), and Moddable's ESP32-C3 stack of 384
// slots. In mcsim against the emulator it must do the whole flow: DPS registration, the hub over TLS, telemetry,
// a desired-property change, a direct method, a C2D message and one SAS renewal. Needs the Moddable SDK: runs only
// when $MODDABLE is set, otherwise skips with a message.
import { MODDABLE, requireMcconfig } from './mcsim-harness';
import { ESP32_HEAP, HEAP_BUDGET_BYTES, heapBytes, runDeviceFlow, type FlowRun } from './device-flow';

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable, a Moddable SDK checkout with its tools built, to run the firmware in an ESP32-sized heap in mcsim)');
  test.skip('the whole flow in an ESP32-sized XS heap (needs $MODDABLE)', () => undefined);
} else {
  describe('the whole device flow in an ESP32-sized XS heap (mcsim, fixed chunks and slots, 384-slot stack)', () => {
    let run: FlowRun;

    beforeAll(async () => {
      requireMcconfig();
      run = await runDeviceFlow({ size: ESP32_HEAP });
      const peaks = run.peaks;
      console.log(
        `heap ${ESP32_HEAP.chunkBytes} B of chunks + ${ESP32_HEAP.slots} slots (${heapBytes(ESP32_HEAP)} B at 32 B a slot), stack ${ESP32_HEAP.stack} slots\n` +
          (peaks
            ? `instrumentation peaks: chunks ${peaks.chunkBytes} B, slots ${peaks.slotBytes} B (${peaks.slotBytes / 32} slots), stack ${peaks.stackSlots} slots; ` +
              `connected after the renewal: chunks ${peaks.lastChunkBytes} B, slots ${peaks.lastSlotBytes} B (${peaks.samples} samples)\n`
            : 'no instrumentation samples\n') +
          `our .xsb: ${run.ourXsbBytes} B in ${run.ourModules} modules; the SDK's: ${run.sdkXsbBytes} B; run ${run.ms} ms\n` +
          (run.aborted ? `XS aborted: ${run.aborted}\n` : '') +
          `the app printed:\n${run.log.join('\n')}`,
      );
    }, 600_000);

    test('the heap asked for fits the budget', () => {
      expect(heapBytes(ESP32_HEAP)).toBeLessThanOrEqual(HEAP_BUDGET_BYTES);
      expect(ESP32_HEAP.stack).toBe(384);
    });

    test('mcconfig built the firmware', () => {
      expect(run.build.code).toBe(0);
      expect(run.build.library).toBeDefined();
    });

    test('XS never ran out of memory or stack', () => {
      expect(run.aborted).toBeUndefined();
    });

    test('every step of the flow happened: DPS, hub, telemetry, desired change, method, C2D, SAS renewal', () => {
      expect({
        assigned: run.steps.assigned,
        connected: run.steps.connected,
        telemetry: run.steps.telemetry > 0,
        desiredAcknowledged: run.steps.desiredAcknowledged,
        methodStatus: run.steps.method?.status,
        c2dCompleted: run.steps.c2dCompleted,
        renewed: run.steps.renewed,
      }).toEqual({ assigned: true, connected: true, telemetry: true, desiredAcknowledged: true, methodStatus: 200, c2dCompleted: true, renewed: true });
    });

    test('instrumentation was sampled and stayed inside the fixed heap', () => {
      expect(run.peaks).toBeDefined();
      expect(run.peaks!.chunkBytes).toBeLessThanOrEqual(ESP32_HEAP.chunkBytes);
      expect(run.peaks!.slotBytes).toBeLessThanOrEqual(ESP32_HEAP.slots * 32);
      expect(run.peaks!.stackSlots).toBeLessThanOrEqual(ESP32_HEAP.stack);
    });

    test('mcsim, xvfb-run and Xvfb are gone afterwards', () => {
      expect(run.leftover).toBe(false);
    });
  });
}
