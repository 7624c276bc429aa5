import { describe, expect, test } from '@jest/globals';
import { buildDeviceInfo } from '../../src/app/device-info';
import { buildStatus } from '../../src/app/app-status';
import { decideDesiredInterval } from '../../src/app/interval-property';
import { readIntervalRequest, setTelemetryIntervalReply } from '../../src/app/commands';
import { createSimulatedSensor, seededRandom } from '../../src/app/simulated-sensor';
import { telemetryBody } from '../../src/app/telemetry-loop';
import { describeC2d } from '../../src/app/c2d-log';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('simulated sensor', () => {
  test('the same seed gives the same series', () => {
    const a = createSimulatedSensor(7);
    const b = createSimulatedSensor(7);
    const seriesA = Array.from({ length: 20 }, () => a.read());
    const seriesB = Array.from({ length: 20 }, () => b.read());
    expect(seriesA).toEqual(seriesB);
    expect(createSimulatedSensor(8).read()).not.toEqual(createSimulatedSensor(7).read());
  });

  test('exact first readings for seed 1 (the default), so a change to the simulation is noticed', () => {
    const sensor = createSimulatedSensor(1);
    expect([sensor.read(), sensor.read(), sensor.read()]).toEqual([
      { temperature: 21.76, humidity: 41.24 },
      { temperature: 22.03, humidity: 40.99 },
      { temperature: 22.07, humidity: 41.63 },
    ]);
    expect(sensor.description).toBe('simulated (seed 1)');
  });

  test('readings stay plausible over a long run, with two decimals', () => {
    const sensor = createSimulatedSensor(123);
    for (let i = 0; i < 5000; i++) {
      const r = sensor.read()!;
      expect(r.temperature).toBeGreaterThanOrEqual(15);
      expect(r.temperature).toBeLessThanOrEqual(30);
      expect(r.humidity).toBeGreaterThanOrEqual(20);
      expect(r.humidity).toBeLessThanOrEqual(80);
      expect(Math.round(r.temperature * 100) / 100).toBe(r.temperature);
    }
  });

  test('the generator gives numbers in [0, 1)', () => {
    const random = seededRandom(0);
    for (let i = 0; i < 1000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('telemetry body', () => {
  test('is compact JSON with temperature and humidity', () => {
    expect(telemetryBody({ temperature: 21.57, humidity: 44.1 })).toBe('{"temperature":21.57,"humidity":44.1}');
  });
});

describe('device info', () => {
  test('reports who made the device, what it runs and when it booted', () => {
    expect(
      buildDeviceInfo({ manufacturer: 'Acme', model: 'T1', firmwareVersion: '1.2.3', hostKind: 'node', bootTimeUnixMs: Date.UTC(2026, 0, 2, 3, 4, 5), sensor: 'simulated (seed 1)' }),
    ).toEqual({ manufacturer: 'Acme', model: 'T1', firmwareVersion: '1.2.3', hostKind: 'node', bootTime: '2026-01-02T03:04:05.000Z', sensor: 'simulated (seed 1)' });
  });

  test('boot time is null when the clock was not set', () => {
    expect(buildDeviceInfo({ manufacturer: 'a', model: 'b', firmwareVersion: 'c', hostKind: 'd', bootTimeUnixMs: undefined, sensor: 'e' }).bootTime).toBeNull();
  });
});

describe('status', () => {
  test('uptime in whole seconds and no error as null', () => {
    expect(
      buildStatus({ uptimeMs: 12_999, messagesSent: 3, messagesFailed: 1, lastError: undefined, telemetryIntervalMs: 5000, deviceId: 'd', firmwareVersion: '0.1.0', connected: true }),
    ).toEqual({ deviceId: 'd', firmwareVersion: '0.1.0', uptimeSeconds: 12, connected: true, messagesSent: 3, messagesFailed: 1, telemetryIntervalMs: 5000, lastError: null });
  });
});

describe('desired telemetryInterval', () => {
  test('a valid value is applied and acknowledged with 200 against its version', () => {
    expect(decideDesiredInterval({ telemetryInterval: 2000 }, 7, 10_000)).toEqual({
      apply: 2000,
      ack: { name: 'telemetryInterval', value: 2000, ackCode: 200, ackVersion: 7, description: 'applied' },
    });
  });

  test('a bad value is refused with 400, keeping the current value', () => {
    expect(decideDesiredInterval({ telemetryInterval: 'fast' }, 8, 10_000)).toEqual({
      ack: { name: 'telemetryInterval', value: 10_000, ackCode: 400, ackVersion: 8, description: 'telemetryInterval must be a whole number of milliseconds; keeping 10000 ms' },
    });
    expect(decideDesiredInterval({ telemetryInterval: 5 }, 9, 3000)?.ack.ackCode).toBe(400);
  });

  test('absent or deleted: nothing to do', () => {
    expect(decideDesiredInterval({ other: 1 }, 3, 1000)).toBeUndefined();
    expect(decideDesiredInterval({ telemetryInterval: null }, 3, 1000)).toBeUndefined();
  });
});

describe('setTelemetryInterval payloads', () => {
  test('a number or an object with telemetryIntervalMs', () => {
    expect(readIntervalRequest(3000)).toEqual({ ok: true, value: 3000 });
    expect(readIntervalRequest({ telemetryIntervalMs: 4000 })).toEqual({ ok: true, value: 4000 });
    expect(setTelemetryIntervalReply(2500)).toEqual({ result: { status: 200, payload: { telemetryIntervalMs: 2500 } }, apply: 2500 });
  });

  test('anything else is a 400 naming the rule', () => {
    expect(setTelemetryIntervalReply(null)).toEqual({ result: { status: 400, payload: { error: 'telemetryIntervalMs must be a whole number of milliseconds' } } });
    expect(setTelemetryIntervalReply({ interval: 3 })).toEqual({
      result: { status: 400, payload: { error: 'the payload must be a number of milliseconds or {"telemetryIntervalMs": n}' } },
    });
    expect(setTelemetryIntervalReply(999).result).toEqual({ status: 400, payload: { error: 'telemetryIntervalMs must be between 1000 and 86400000 ms' } });
    expect(setTelemetryIntervalReply('5000').result.status).toBe(400);
  });
});

describe('C2D log line', () => {
  test('text body and properties', () => {
    expect(
      describeC2d({ payload: ascii('hello\ndevice'), messageId: 'm1', properties: [{ name: 'color', value: 'red' }, { name: 'flag', value: null }] }),
    ).toBe('C2D message received id m1: "hello device" (properties: color=red, flag)');
  });

  test('binary and long bodies are summarised', () => {
    expect(describeC2d({ payload: new Uint8Array([0xff, 0xfe, 0x00]), properties: [] })).toBe('C2D message received: 3 bytes of binary data');
    const line = describeC2d({ payload: ascii('x'.repeat(1000)), properties: [] });
    expect(line).toBe(`C2D message received: "${'x'.repeat(200)}..." (1000 bytes)`);
  });
});
