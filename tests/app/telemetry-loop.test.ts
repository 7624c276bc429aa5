import { describe, expect, test } from '@jest/globals';
import { VirtualClock, settle } from '../../hosts/virtual';
import { TelemetryLoop } from '../../src/app/telemetry-loop';
import { UnsentReadings } from '../../src/app/unsent-readings';
import type { SensorPort, SensorReading } from '../../src/app/simulated-sensor';
import { createSimulatedSensor } from '../../src/app/simulated-sensor';
import { HubError } from '../../src/hub/hub-error';
import { FakeHub } from './fake-hub';

function fixedSensor(readings: Array<SensorReading | undefined>): SensorPort {
  let i = 0;
  return { description: 'fixed', read: () => readings[Math.min(i++, readings.length - 1)] };
}

function setup(sensor: SensorPort = createSimulatedSensor(1), intervalMs = 5000) {
  const clock = new VirtualClock();
  const hub = new FakeHub();
  const lines: string[] = [];
  const failures: string[] = [];
  const loop = new TelemetryLoop(
    { hub, timers: clock, sensor, log: (level, message) => lines.push(`${level} ${message}`), onFailure: (m) => failures.push(m) },
    intervalMs,
  );
  return { clock, hub, lines, failures, loop };
}

describe('schedule', () => {
  test('first reading at start, then one per interval, with JSON content type', async () => {
    const { clock, hub, lines, loop } = setup();
    loop.start();
    await settle();
    expect(hub.telemetry.map((t) => t.body)).toEqual(['{"temperature":21.76,"humidity":41.24}']);
    expect(hub.telemetry[0]!.options).toEqual({ systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' } });
    await clock.advanceSettled(4999);
    expect(hub.telemetry).toHaveLength(1);
    await clock.advanceSettled(1);
    expect(hub.telemetry).toHaveLength(2);
    await clock.advanceSettled(10_000);
    expect(hub.telemetry).toHaveLength(4);
    expect(lines).toEqual([
      'info telemetry every 5000 ms from the simulated (seed 1) sensor',
      'info telemetry #1 sent (temperature 21.76 C, humidity 41.24 %)',
      'info telemetry #2 sent (temperature 22.03 C, humidity 40.99 %)',
      'info telemetry #3 sent (temperature 22.07 C, humidity 41.63 %)',
      expect.stringMatching(/^info telemetry #4 sent/),
    ]);
    expect(loop.stats).toEqual({ sent: 4, failed: 0, taken: 4 });
  });

  test('a new interval takes effect from the change', async () => {
    const { clock, hub, loop } = setup();
    loop.start();
    await clock.advanceSettled(3000);
    loop.setInterval(1000);
    expect(loop.intervalMs).toBe(1000);
    await clock.advanceSettled(999);
    expect(hub.telemetry).toHaveLength(1);
    await clock.advanceSettled(1);
    expect(hub.telemetry).toHaveLength(2);
    await clock.advanceSettled(3000);
    expect(hub.telemetry).toHaveLength(5);
  });

  test('stop leaves no timer behind and start again resumes', async () => {
    const { clock, hub, loop } = setup();
    loop.start();
    loop.stop();
    expect(clock.pendingCount).toBe(0);
    await clock.advanceSettled(60_000);
    expect(hub.telemetry).toHaveLength(1);
    loop.setInterval(2000);
    expect(clock.pendingCount).toBe(0);
    loop.start();
    expect(hub.telemetry).toHaveLength(2);
    expect(clock.pendingCount).toBe(1);
    loop.stop();
  });
});

describe('sends that do not complete', () => {
  test('slow acknowledgements do not hold up the schedule, and are counted when they come', async () => {
    const { clock, hub, loop } = setup();
    hub.autoSettle = undefined;
    loop.start();
    await clock.advanceSettled(10_000);
    expect(hub.telemetry).toHaveLength(3);
    expect(loop.stats).toEqual({ sent: 0, failed: 0, taken: 3 });
    hub.telemetry.forEach((t) => t.resolve());
    await settle();
    expect(loop.stats.sent).toBe(3);
    loop.stop();
  });

  test('refused messages are counted, logged and kept as the last error', async () => {
    const { clock, hub, lines, failures, loop } = setup();
    hub.autoSettle = new HubError('queue-full', '64 telemetry messages are already pending');
    loop.start();
    await clock.advanceSettled(5000);
    expect(loop.stats).toEqual({ sent: 0, failed: 2, taken: 2 });
    expect(loop.lastError).toBe('telemetry #2 not sent: 64 telemetry messages are already pending');
    expect(failures).toEqual(['telemetry #1 not sent: 64 telemetry messages are already pending', 'telemetry #2 not sent: 64 telemetry messages are already pending']);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(2);
    loop.stop();
  });

  test('a sensor without a reading skips the tick; a throwing sensor is logged, the loop goes on', async () => {
    let calls = 0;
    const sensor: SensorPort = {
      description: 'flaky',
      read: () => {
        calls++;
        if (calls === 1) return undefined;
        if (calls === 2) throw new Error('i2c bus error');
        return { temperature: 20, humidity: 50 };
      },
    };
    const { clock, hub, lines, loop } = setup(sensor, 1000);
    loop.start();
    await clock.advanceSettled(2000);
    expect(hub.telemetry.map((t) => t.body)).toEqual(['{"temperature":20,"humidity":50}']);
    expect(lines).toContain('debug sensor has no reading this time; nothing sent');
    expect(lines).toContain('warn sensor read failed: i2c bus error');
    expect(lines).toContain('info telemetry #1 sent (temperature 20 C, humidity 50 %)');
    loop.stop();
  });

  test('fixed readings give exact bodies', async () => {
    const { hub, loop } = setup(fixedSensor([{ temperature: 1.5, humidity: 2 }]));
    loop.start();
    await settle();
    expect(hub.telemetry[0]!.body).toBe('{"temperature":1.5,"humidity":2}');
    loop.stop();
  });
});

describe('readings a closed client left unacknowledged', () => {
  function loopWith(hub: FakeHub, clock: VirtualClock, carry: UnsentReadings, lines: string[]): TelemetryLoop {
    return new TelemetryLoop({ hub, timers: clock, sensor: createSimulatedSensor(1), log: (level, message) => lines.push(`${level} ${message}`), carry }, 5000);
  }

  test('are kept when the client closes under them and sent first by the loop on the next client', async () => {
    const clock = new VirtualClock();
    const carry = new UnsentReadings();
    const lines: string[] = [];
    const first = new FakeHub();
    first.autoSettle = undefined;
    const oldLoop = loopWith(first, clock, carry, lines);
    oldLoop.start();
    await clock.advanceSettled(5000);
    expect(first.telemetry).toHaveLength(2);
    // The boot flow closes the client to ask DPS again: both readings are rejected with 'closed'.
    oldLoop.stop();
    for (const t of first.telemetry) t.reject(new HubError('closed', 'the client was closed before the message was acknowledged'));
    await settle();
    expect(carry.size).toBe(2);
    expect(oldLoop.stats).toEqual({ sent: 0, failed: 0, taken: 2 });

    const second = new FakeHub();
    const newLoop = loopWith(second, clock, carry, lines);
    newLoop.start();
    await settle();
    expect(second.telemetry.map((t) => t.body)).toEqual([
      first.telemetry[0]!.body,
      first.telemetry[1]!.body,
      '{"temperature":21.76,"humidity":41.24}',
    ]);
    expect(carry.size).toBe(0);
    expect(lines).toEqual([
      'info telemetry every 5000 ms from the simulated (seed 1) sensor',
      'info telemetry #1 kept for the next connection (the client closed before the hub acknowledged it)',
      'info telemetry #2 kept for the next connection (the client closed before the hub acknowledged it)',
      'info sending 2 reading(s) the previous connection left unacknowledged',
      'info telemetry every 5000 ms from the simulated (seed 1) sensor',
      'info telemetry #1 sent (temperature 21.76 C, humidity 41.24 %)',
      'info telemetry #2 sent (temperature 22.03 C, humidity 40.99 %)',
      'info telemetry #3 sent (temperature 21.76 C, humidity 41.24 %)',
    ]);
    newLoop.stop();
  });

  test('the carry is bounded: past its limit the oldest reading is dropped and counted as failed', async () => {
    const clock = new VirtualClock();
    const carry = new UnsentReadings(1);
    const lines: string[] = [];
    const hub = new FakeHub();
    hub.autoSettle = new HubError('closed', 'the client was closed');
    const loop = loopWith(hub, clock, carry, lines);
    loop.start();
    await clock.advanceSettled(5000);
    loop.stop();
    expect(carry.size).toBe(1);
    expect(carry.dropped).toBe(1);
    expect(loop.stats).toEqual({ sent: 0, failed: 1, taken: 2 });
    expect(loop.lastError).toBe('telemetry #1 not sent: dropped: too many readings waiting for the next connection');
    expect(carry.takeAll().map((r) => r.n)).toEqual([2]);
  });

  test('without a carry a closed client counts as a failure, as before', async () => {
    const { hub, loop } = setup();
    hub.autoSettle = new HubError('closed', 'the client was closed');
    loop.start();
    await settle();
    expect(loop.stats).toEqual({ sent: 0, failed: 1, taken: 1 });
    loop.stop();
  });
});
