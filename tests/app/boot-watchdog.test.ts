// No firmware state is a dead end (issue 12): `failed` is left by the slow retry, a boot that never reaches the
// hub by the watchdog, either through the platform's reboot hook or the in-place restart. Virtual clock only.
import { describe, expect, test } from '@jest/globals';
import { ScriptedTransportFactory, VirtualClock, settle } from '../../hosts/virtual';
import { createNodeCrypto } from '../../hosts/node/node-crypto';
import { createMemoryStore } from '../../hosts/node';
import { BootWatchdog, DEFAULT_FAILED_RETRY_MS, DEFAULT_STUCK_BOOT_MS } from '../../src/app/boot-watchdog';
import { Firmware, type FirmwareState, type PlatformHooks } from '../../src/main';
import type { HostPorts } from '../../src/ports';

describe('BootWatchdog', () => {
  function watchdog(): { clock: VirtualClock; dog: BootWatchdog; recovered: string[] } {
    const clock = new VirtualClock();
    const recovered: string[] = [];
    const dog = new BootWatchdog({ timers: clock, failedRetryMs: 1000, stuckBootMs: 5000, recover: (why) => recovered.push(why), log: () => undefined });
    return { clock, dog, recovered };
  }

  test('failed is left after failedRetryMs', () => {
    const { clock, dog, recovered } = watchdog();
    dog.enter('failed');
    clock.advance(999);
    expect(recovered).toEqual([]);
    clock.advance(1);
    expect(recovered).toEqual(['the firmware failed; starting again']);
    expect(clock.pendingCount).toBe(0);
  });

  test('a boot keeps its first deadline while it moves between boot states; running clears it', () => {
    const { clock, dog, recovered } = watchdog();
    dog.enter('booting');
    clock.advance(4000);
    dog.enter('booting'); // waiting-for-clock -> connecting, say
    clock.advance(1000);
    expect(recovered).toEqual(['the boot did not reach the hub in time; starting again']);

    dog.enter('settled');
    dog.enter('booting');
    clock.advance(4999);
    dog.enter('settled');
    expect(clock.pendingCount).toBe(0);
    clock.advance(10_000);
    expect(recovered).toHaveLength(1);
  });

  test('failing during a boot swaps the watchdog for the slow retry', () => {
    const { clock, dog, recovered } = watchdog();
    dog.enter('booting');
    dog.enter('failed');
    expect(clock.pendingCount).toBe(1);
    clock.advance(1000);
    expect(recovered).toEqual(['the firmware failed; starting again']);
  });

  test('defaults: hourly from failed, six hours for a stuck boot', () => {
    expect([DEFAULT_FAILED_RETRY_MS, DEFAULT_STUCK_BOOT_MS]).toEqual([3_600_000, 21_600_000]);
  });
});

describe('the firmware never rests in a state that no timer leaves', () => {
  function firmware(config: Record<string, unknown>, platform: Partial<PlatformHooks>, wallClockSet = true): { clock: VirtualClock; fw: Firmware; states: FirmwareState[]; lines: string[] } {
    const clock = new VirtualClock();
    const lines: string[] = [];
    const host: HostPorts = {
      transport: new ScriptedTransportFactory(),
      timers: clock,
      clock: { unixMs: () => (wallClockSet ? 1_700_000_000_000 + clock.now() : undefined) },
      crypto: createNodeCrypto(),
      store: createMemoryStore(),
      logger: { log: (level, message) => void lines.push(`${level} ${message}`) },
    };
    const fw = new Firmware(host, config, { hostKind: 'test', defaultRoots: [], ...platform });
    const states: FirmwareState[] = [];
    fw.on('state', ({ state }) => states.push(state));
    return { clock, fw, states, lines };
  }

  test('from failed (a configuration error), the firmware starts again after failedRetryMs, again and again', async () => {
    const { clock, fw, states, lines } = firmware({ telemetryIntervalMs: 5 }, { failedRetryMs: 60_000 });
    expect(await fw.start()).toBe('failed');
    expect(clock.pendingCount).toBe(1);
    await clock.advanceSettled(59_999);
    expect(states).toEqual(['failed']);
    await clock.advanceSettled(1);
    await settle();
    expect(states).toEqual(['failed', 'stopping', 'stopped', 'failed']);
    expect(lines).toContain('info firmware: restarting (restart #1)');
    await clock.advanceSettled(60_000);
    await settle();
    expect(states.filter((s) => s === 'failed')).toHaveLength(3);
    await fw.stop();
    expect(clock.pendingCount).toBe(0);
  });

  test('with a platform reboot hook, failed reboots the device instead', async () => {
    let reboots = 0;
    const { clock, fw } = firmware({}, { failedRetryMs: 60_000, reboot: () => reboots++ });
    // Nothing configured anywhere: failed once the clock is read.
    expect(await fw.start()).toBe('failed');
    await clock.advanceSettled(60_000);
    expect(reboots).toBe(1);
  });

  test('a boot stuck waiting for a clock that never comes is rebooted by the watchdog after stuckBootMs', async () => {
    let reboots = 0;
    const { clock, fw, states, lines } = firmware({ connectionString: 'HostName=h.example;DeviceId=d;SharedAccessKey=AAAA' }, { stuckBootMs: 60_000, reboot: () => reboots++ }, false);
    void fw.start();
    await settle();
    expect(states).toEqual(['waiting-for-clock']);
    await clock.advanceSettled(59_500);
    expect(reboots).toBe(0);
    await clock.advanceSettled(500);
    expect(reboots).toBe(1);
    expect(lines).toContain('warn firmware: rebooting the device');
    await fw.stop();
  });

  test('an unusable delay is named and the default used', async () => {
    const { clock, fw, lines } = firmware({ telemetryIntervalMs: 5 }, { failedRetryMs: -1 });
    expect(lines).toContain('warn firmware: failedRetryMs must be a whole number of milliseconds >= 1; using 3600000');
    expect(await fw.start()).toBe('failed');
    await clock.advanceSettled(3_599_999);
    expect(fw.state).toBe('failed');
    await fw.stop();
  });
});
