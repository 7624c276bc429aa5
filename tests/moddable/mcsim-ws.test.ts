// The firmware (manifest.json) in mcsim over MQTT over WebSockets: `transport=mqtt-ws`, so DPS and the hub are
// reached through the emulator's `wss://…/$iothub/websocket` endpoints, the RFC 6455 client of src/ws running
// over the Moddable host's SecureSocket transport. The whole flow: DPS, hub, telemetry, a desired change, a method,
// C2D and a SAS renewal. The heap is fixed like esp32-heap.test.ts's but bigger (28,672 B of chunks + 3,072
// slots = 126,976 B at lin's 32 B a slot): in the ESP32-sized 114,688 B the WebSocket flow runs out of memory just
// after the hub connection (measured here; not yet slimmed). Needs the Moddable SDK: runs only when $MODDABLE is
// set, otherwise skips with a message.
import { MODDABLE, requireMcconfig } from './mcsim-harness';
import { ESP32_HEAP, heapBytes, runDeviceFlow, type FlowRun, type HeapSize } from './device-flow';

/** ESP32_HEAP's stack, more chunks and slots: the smallest tried (after the rebase onto main) in which the WebSocket flow completes. */
const WS_HEAP: HeapSize = { ...ESP32_HEAP, chunkBytes: 28_672, slots: 3_072 };

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable, a Moddable SDK checkout with its tools built, to run the firmware over WebSockets in mcsim)');
  test.skip('the whole flow over WebSockets in mcsim (needs $MODDABLE)', () => undefined);
} else {
  describe('the whole device flow in mcsim over MQTT over WebSockets (SecureSocket underneath)', () => {
    let run: FlowRun;

    beforeAll(async () => {
      requireMcconfig();
      run = await runDeviceFlow({ size: WS_HEAP, webSockets: true });
      const peaks = run.peaks;
      console.log(
        `over WebSockets, heap ${heapBytes(WS_HEAP)} B, stack ${WS_HEAP.stack} slots\n` +
          (peaks ? `instrumentation peaks: chunks ${peaks.chunkBytes} B, slots ${peaks.slotBytes / 32} slots, stack ${peaks.stackSlots} slots\n` : 'no instrumentation samples\n') +
          `our .xsb: ${run.ourXsbBytes} B in ${run.ourModules} modules; run ${run.ms} ms\n` +
          (run.aborted ? `XS aborted: ${run.aborted}\n` : '') +
          `the app printed:\n${run.log.join('\n')}`,
      );
    }, 600_000);

    test('mcconfig built the firmware and XS never ran out of memory or stack', () => {
      expect(run.build.code).toBe(0);
      expect(run.aborted).toBeUndefined();
    });

    test('DPS and the hub were reached over WebSockets', () => {
      expect(run.log.some((line) => /dps: MQTT over WebSockets to localhost:\d+/.test(line))).toBe(true);
      expect(run.log.some((line) => /hub: MQTT over WebSockets to localhost:\d+/.test(line))).toBe(true);
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

    test('mcsim and its X server are gone', () => {
      expect(run.leftover).toBe(false);
    });
  });
}
