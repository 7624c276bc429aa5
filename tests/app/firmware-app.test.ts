import { describe, expect, test } from '@jest/globals';
import { VirtualClock, settle } from '../../hosts/virtual';
import { FirmwareApp } from '../../src/app/firmware-app';
import { createSimulatedSensor } from '../../src/app/simulated-sensor';
import { HubError } from '../../src/hub/hub-error';
import type { LogLevel } from '../../src/ports';
import { FakeHub } from './fake-hub';

const BOOT_MS = Date.UTC(2026, 10, 22, 12, 0, 0);

function setup(options: { clockSet?: boolean } = {}) {
  const clock = new VirtualClock(1_000);
  const hub = new FakeHub('thermo-1');
  const lines: string[] = [];
  let reboots = 0;
  const app = new FirmwareApp({
    hub,
    timers: clock,
    clock: { unixMs: () => (options.clockSet === false ? undefined : BOOT_MS + clock.now()) },
    logger: { log: (level: LogLevel, message: string) => lines.push(`${level} ${message}`) },
    sensor: createSimulatedSensor(1),
    telemetryIntervalMs: 10_000,
    manufacturer: 'Acme',
    model: 'T1',
    hostKind: 'test',
    connected: true,
    firmwareVersion: '9.9.9',
    reboot: () => reboots++,
  });
  return { clock, hub, lines, app, reboots: () => reboots };
}

describe('start', () => {
  test('reports device info, starts telemetry and registers the three methods', async () => {
    const { hub, lines, app } = setup();
    app.start();
    await settle();
    expect(hub.reported).toEqual([
      { manufacturer: 'Acme', model: 'T1', firmwareVersion: '9.9.9', hostKind: 'test', bootTime: '2026-11-22T12:00:01.000Z', sensor: 'simulated (seed 1)' },
    ]);
    expect(hub.telemetry).toHaveLength(1);
    expect(['getStatus', 'setTelemetryInterval', 'reboot'].map((m) => hub.hasMethod(m))).toEqual([true, true, true]);
    expect(lines).toEqual([
      'info app: reporting device info: firmware 9.9.9 on test, boot time 2026-11-22T12:00:01.000Z',
      'info app: telemetry every 10000 ms from the simulated (seed 1) sensor',
      'info app: device info reported (reported version 2)',
      'info app: telemetry #1 sent (temperature 21.76 C, humidity 41.24 %)',
    ]);
    app.stop();
  });

  test('without a clock the boot time is reported as null', async () => {
    const { hub, app } = setup({ clockSet: false });
    app.start();
    await settle();
    expect(hub.reported[0]!['bootTime']).toBeNull();
    app.stop();
  });

  test('stop removes every handler and timer', async () => {
    const { clock, hub, app } = setup();
    app.start();
    await settle();
    expect(hub.listenerCount()).toBeGreaterThan(0);
    app.stop();
    expect(hub.listenerCount()).toBe(0);
    expect(clock.pendingCount).toBe(0);
  });
});

describe('desired telemetryInterval', () => {
  test('applied and acknowledged with ac/av/ad/value; telemetry follows the new interval', async () => {
    const { clock, hub, lines, app } = setup();
    app.start();
    await settle();
    await hub.pushDesired({ telemetryInterval: 2000 }, 4);
    await settle();
    expect(hub.acks).toEqual([{ name: 'telemetryInterval', value: 2000, ackCode: 200, ackVersion: 4, description: 'applied' }]);
    expect(lines).toContain('info app: twin: telemetryInterval 10000 ms -> 2000 ms (desired version 4)');
    expect(lines).toContain('info app: twin: telemetryInterval acknowledged (ac 200, av 4, value 2000)');
    await clock.advanceSettled(4000);
    expect(hub.telemetry).toHaveLength(3);
    app.stop();
  });

  test('the whole desired section after a connect is handled the same way', async () => {
    const { hub, app } = setup();
    app.start();
    await hub.pushDesired({ telemetryInterval: 3000, other: true }, 11, true);
    await settle();
    expect(app.telemetryIntervalMs).toBe(3000);
    expect(hub.acks[0]).toMatchObject({ ackCode: 200, ackVersion: 11 });
    app.stop();
  });

  test('a bad value is refused with 400 and the interval stays', async () => {
    const { hub, lines, app } = setup();
    app.start();
    await hub.pushDesired({ telemetryInterval: -5 }, 5);
    await settle();
    expect(app.telemetryIntervalMs).toBe(10_000);
    expect(hub.acks).toEqual([
      { name: 'telemetryInterval', value: 10_000, ackCode: 400, ackVersion: 5, description: 'telemetryInterval must be between 1000 and 86400000 ms; keeping 10000 ms' },
    ]);
    expect(lines).toContain('warn app: twin: telemetryInterval must be between 1000 and 86400000 ms; keeping 10000 ms (desired version 5)');
    app.stop();
  });

  test('patches about other properties are ignored', async () => {
    const { hub, app } = setup();
    app.start();
    await hub.pushDesired({ color: 'blue' }, 6);
    await settle();
    expect(hub.acks).toEqual([]);
    app.stop();
  });
});

describe('methods', () => {
  test('getStatus: uptime, messages sent, last error, interval', async () => {
    const { clock, hub, lines, app } = setup();
    app.start();
    await clock.advanceSettled(25_000);
    const result = await hub.invoke('getStatus');
    expect(result).toEqual({
      status: 200,
      payload: {
        deviceId: 'thermo-1',
        firmwareVersion: '9.9.9',
        uptimeSeconds: 25,
        connected: true,
        messagesSent: 3,
        messagesFailed: 0,
        telemetryIntervalMs: 10_000,
        lastError: null,
      },
    });
    expect(lines).toContain('info app: method getStatus answered 200');
    app.stop();
  });

  test('getStatus shows the last error and the connection state', async () => {
    const { clock, hub, app } = setup();
    app.start();
    await settle();
    hub.autoSettle = new HubError('queue-full', 'queue is full');
    hub.emit('disconnected', { reason: { code: 'connection-lost', message: 'peer closed' } });
    await clock.advanceSettled(10_000);
    const result = await hub.invoke('getStatus');
    expect(result.payload).toMatchObject({ connected: false, messagesSent: 1, messagesFailed: 1, lastError: 'telemetry #2 not sent: queue is full' });
    hub.emit('error', new HubError('connect-failed', 'hub unreachable'));
    expect((await hub.invoke('getStatus')).payload).toMatchObject({ lastError: 'hub: hub unreachable' });
    hub.emit('connected', { sessionPresent: true });
    expect((await hub.invoke('getStatus')).payload).toMatchObject({ connected: true });
    app.stop();
  });

  test('setTelemetryInterval: 200 with the new value, reported as the property; 400 for bad input', async () => {
    const { clock, hub, lines, app } = setup();
    app.start();
    await hub.pushDesired({ telemetryInterval: 5000 }, 3);
    await settle();
    expect(await hub.invoke('setTelemetryInterval', { telemetryIntervalMs: 1500 })).toEqual({ status: 200, payload: { telemetryIntervalMs: 1500 } });
    await settle();
    expect(app.telemetryIntervalMs).toBe(1500);
    expect(hub.acks[1]).toEqual({ name: 'telemetryInterval', value: 1500, ackCode: 200, ackVersion: 3, description: 'set by setTelemetryInterval' });
    expect(lines).toContain('info app: telemetry interval 5000 ms -> 1500 ms (setTelemetryInterval)');
    expect(lines).toContain('info app: method setTelemetryInterval answered 200');

    expect(await hub.invoke('setTelemetryInterval', 'often')).toEqual({ status: 400, payload: { error: 'telemetryIntervalMs must be a whole number of milliseconds' } });
    expect(app.telemetryIntervalMs).toBe(1500);
    expect(lines).toContain('info app: method setTelemetryInterval answered 400: telemetryIntervalMs must be a whole number of milliseconds');
    const before = hub.telemetry.length;
    await clock.advanceSettled(3000);
    expect(hub.telemetry.length - before).toBe(2);
    app.stop();
  });

  test('reboot: answers first, restarts after the delay, once', async () => {
    const { clock, hub, app, reboots } = setup();
    app.start();
    expect(await hub.invoke('reboot')).toEqual({ status: 200, payload: { rebooting: true, inMs: 1000 } });
    await hub.invoke('reboot');
    expect(reboots()).toBe(0);
    await clock.advanceSettled(1000);
    expect(reboots()).toBe(1);
    app.stop();
  });

  test('a reboot pending when the app stops never fires', async () => {
    const { clock, hub, app, reboots } = setup();
    app.start();
    await hub.invoke('reboot');
    app.stop();
    await clock.advanceSettled(5000);
    expect(reboots()).toBe(0);
    expect(clock.pendingCount).toBe(0);
  });
});

describe('C2D and connection events', () => {
  test('C2D messages are logged', async () => {
    const { hub, lines, app } = setup();
    app.start();
    await hub.pushC2d({ payload: new TextEncoder().encode('{"led":"on"}'), messageId: 'm-7', properties: [{ name: 'kind', value: 'demo' }] });
    expect(lines).toContain('info app: C2D message received id m-7: "{"led":"on"}" (properties: kind=demo)');
    app.stop();
  });

  test('connection events and hub errors are not logged again by the app (the client logs them)', async () => {
    const { hub, lines, app } = setup();
    app.start();
    await settle();
    const before = lines.length;
    hub.emit('disconnected', { reason: { code: 'connection-lost', message: 'the network went away' } });
    hub.emit('reconnecting', { attempt: 1, delayMs: 1500 });
    hub.emit('error', new HubError('connect-failed', 'refused'));
    hub.emit('connected', { sessionPresent: true });
    expect(lines.length).toBe(before);
    app.stop();
  });

  test('a failed device-info report is logged and becomes the last error', async () => {
    const { hub, app } = setup();
    hub.reportFailure = new HubError('timeout', 'no answer to twin request');
    app.start();
    await settle();
    expect((await hub.invoke('getStatus')).payload).toMatchObject({ lastError: 'device info not reported: no answer to twin request' });
    app.stop();
  });
});

describe('with a telemetry journal', () => {
  test('getStatus carries its depth, bytes, oldest age and drops; a drop is reported as telemetryDropped', async () => {
    const clock = new VirtualClock(1_000);
    const hub = new FakeHub('thermo-1');
    let status = { depth: 3, bytes: 4096, oldestAgeSeconds: 12, dropped: 0, budgetBytes: 65_536 } as { depth: number; bytes: number; oldestAgeSeconds: number | undefined; dropped: number; budgetBytes: number };
    const lines: string[] = [];
    const app = new FirmwareApp({
      hub,
      timers: clock,
      clock: { unixMs: () => BOOT_MS + clock.now() },
      logger: { log: (level: LogLevel, message: string) => lines.push(`${level} ${message}`) },
      sensor: createSimulatedSensor(1),
      telemetryIntervalMs: 10_000,
      manufacturer: 'Acme',
      model: 'T1',
      hostKind: 'test',
      connected: true,
      firmwareVersion: '9.9.9',
      reboot: () => undefined,
      journal: { stats: () => status },
    });
    app.start();
    await settle();
    expect((await hub.invoke('getStatus')).payload).toMatchObject({ journal: { depth: 3, bytes: 4096, budgetBytes: 65_536, oldestAgeSeconds: 12, dropped: 0 } });
    expect(hub.reported).toHaveLength(1); // device info only: nothing dropped yet
    status = { ...status, dropped: 30, oldestAgeSeconds: undefined };
    hub.emit('journal', status);
    await settle();
    expect(hub.reported[1]).toEqual({ telemetryDropped: 30 });
    expect(lines).toContain('warn app: telemetry journal full: 30 message(s) dropped so far');
    hub.emit('journal', status); // the same count: not reported again
    await settle();
    expect(hub.reported).toHaveLength(2);
    expect((await hub.invoke('getStatus')).payload).toMatchObject({ journal: { oldestAgeSeconds: null, dropped: 30 } });
    app.stop();
  });
});
