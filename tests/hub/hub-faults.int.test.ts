// Recovery from the emulator's injected faults: killed TCP mid-publish, withheld PUBACKs, throttling (429 and
// Azure's InvokeThrottling), an auth error that must not start a retry storm, and a desired patch made while the
// device was offline.
import type { Emulator } from '../../emulator/src/emulator';
import { clientFor, delay, startHubEmulator, text, until } from './emulator-fixture';

let emulator: Emulator;
let seq = 0;

beforeAll(async () => {
  emulator = await startHubEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

function newDevice(): string {
  const id = `fault-dev-${++seq}`;
  emulator.addDevice(id);
  return id;
}

function bodiesOf(deviceId: string): Set<string> {
  return new Set(emulator.telemetry(deviceId).map((m) => text(m.body)));
}

describe('KillTcp in the middle of a publish', () => {
  it('resends what was in flight when the hub cut the connection mid-packet; every message is acknowledged', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id);
    try {
      await device.client.connect();
      emulator.faults.dropMidPacket(id); // the next packet to the device (a PUBACK) is cut in half
      const sends = Array.from({ length: 30 }, (_, i) => device.client.sendTelemetry(`kill-${i}`));
      await Promise.all(sends);
      expect(device.events).toContain('disconnected:connection-lost');
      const bodies = bodiesOf(id);
      for (let i = 0; i < 30; i++) expect(bodies.has(`kill-${i}`)).toBe(true);
    } finally {
      await device.client.close();
    }
  });

  it('survives the Azure KillTcp fault property in the middle of a burst', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id);
    try {
      await device.client.connect();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        const properties = i === 10 ? { AzIoTHub_FaultOperationType: 'KillTcp', AzIoTHub_FaultOperationCloseReason: 'test' } : undefined;
        sends.push(device.client.sendTelemetry(`burst-${i}`, properties === undefined ? {} : { properties }));
        if (i % 5 === 0) await delay(5);
      }
      await Promise.all(sends);
      await until(() => device.events.includes('disconnected:connection-lost'), 5000, 'the kill');
      const bodies = bodiesOf(id);
      for (let i = 0; i < 40; i++) expect(bodies.has(`burst-${i}`)).toBe(true);
      await device.client.sendTelemetry('after');
    } finally {
      await device.client.close();
    }
  });
});

describe('withheld PUBACK', () => {
  it('reconnects after ackTimeoutMs and resends until acknowledged', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id, { ackTimeoutMs: 800 });
    try {
      await device.client.connect();
      emulator.faults.withholdPubacks(id, { count: 1 });
      const started = Date.now();
      await device.client.sendTelemetry('held');
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      expect(device.events).toContain('disconnected:ack-timeout');
      expect(emulator.telemetry(id).filter((m) => text(m.body) === 'held').length).toBeGreaterThanOrEqual(2);
    } finally {
      await device.client.close();
    }
  });
});

describe('throttling', () => {
  it('retries a twin request answered 429 and resolves it', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id);
    try {
      await device.client.connect();
      await delay(100); // let the catch-up GET finish so the fault hits our patch
      emulator.faults.twinResponses(id, { status: 429 }, { count: 2 });
      const version = await device.client.patchReported({ throttled: true });
      expect(typeof version).toBe('number');
      expect(emulator.getTwin(id).reported['throttled']).toBe(true);
    } finally {
      await device.client.close();
    }
  });

  it('recovers from InvokeThrottling (withheld acks, 429s, refused connects) without losing telemetry', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id, { ackTimeoutMs: 500 });
    try {
      await device.client.connect();
      await device.client.sendTelemetry('throttle-now', {
        properties: { AzIoTHub_FaultOperationType: 'InvokeThrottling', AzIoTHub_FaultOperationDurationInSecs: '1' },
      });
      await delay(50);
      const sends = Array.from({ length: 10 }, (_, i) => device.client.sendTelemetry(`during-${i}`));
      const patch = device.client.patchReported({ during: 'throttling' });
      await Promise.all([...sends, patch]);
      const bodies = bodiesOf(id);
      for (let i = 0; i < 10; i++) expect(bodies.has(`during-${i}`)).toBe(true);
      expect(emulator.getTwin(id).reported['during']).toBe('throttling');
      expect(device.errors.some((e) => e.code === 'auth-failed')).toBe(false);
    } finally {
      await device.client.close();
    }
  });
});

describe('auth error', () => {
  it('is reported and not retried: one reconnect attempt, then nothing until the credentials change', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id);
    try {
      await device.client.connect();
      expect(device.opened).toBe(1);
      await device.client.sendTelemetry('auth-fault', {
        properties: { AzIoTHub_FaultOperationType: 'InvokeAuthError', AzIoTHub_FaultOperationDurationInSecs: '2' },
      });
      await until(() => device.client.state === 'stopped', 5000, 'the auth failure');
      const refusedAt = Date.now();
      await delay(1500);
      expect(device.opened).toBe(2); // the first connection, and one reconnect that got CONNACK 5
      expect(emulator.connectionLog().filter((e) => e.type === 'refused' && e.clientId === id)).toHaveLength(1);
      expect(device.errors.filter((e) => e.code === 'auth-failed')).toHaveLength(1);
      expect(device.errors.find((e) => e.code === 'auth-failed')?.returnCode).toBe(5);

      // Sends made meanwhile wait; new credentials (after the fault window) bring the device back.
      const waiting = device.client.sendTelemetry('after-auth');
      await delay(Math.max(0, 2200 - (Date.now() - refusedAt)));
      device.client.updateCredentials({ kind: 'connection-string', connectionString: emulator.connectionString(id) });
      await waiting;
      expect(device.opened).toBe(3);
      expect(bodiesOf(id).has('after-auth')).toBe(true);
    } finally {
      await device.client.close();
    }
  });

  it('stops at once when the very first CONNECT is refused with 4', async () => {
    const id = newDevice();
    emulator.faults.refuseConnect(id, 4, { count: 1 });
    const device = clientFor(emulator, id);
    try {
      await expect(device.client.connect()).rejects.toMatchObject({ code: 'auth-failed', returnCode: 4 });
      await delay(500);
      expect(device.opened).toBe(1);
    } finally {
      await device.client.close();
    }
  });
});

describe('desired patch made while the device is offline', () => {
  it('is applied exactly once after the reconnect, from the GET', async () => {
    const id = newDevice();
    const device = clientFor(emulator, id);
    const seen: Array<{ version: number; full: boolean; mode: unknown }> = [];
    device.client.onDesired((patch, version, info) => {
      seen.push({ version, full: info.full, mode: patch['mode'] });
    });
    try {
      await device.client.connect();
      await until(() => seen.length === 1, 5000, 'the first GET');
      emulator.faults.refuseConnect(id, 3, { count: 1 }); // keep it offline a little longer
      emulator.faults.dropConnection(id);
      await until(() => !emulator.isConnected(id), 5000, 'the drop');
      const twin = emulator.patchDesired(id, { mode: 'eco' });
      const version = twin.desired['$version'] as number;
      await until(() => seen.some((s) => s.version === version), 10_000, 'the offline patch');
      await delay(200);
      expect(seen.filter((s) => s.version === version)).toEqual([{ version, full: true, mode: 'eco' }]);
      expect(seen).toHaveLength(2);
      // A later live patch is applied once too, as an incremental patch.
      emulator.patchDesired(id, { mode: 'boost' });
      await until(() => seen.length === 3, 5000, 'the live patch');
      expect(seen[2]).toEqual({ version: version + 1, full: false, mode: 'boost' });
    } finally {
      await device.client.close();
    }
  });
});
