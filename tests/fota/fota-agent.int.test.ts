// The FOTA agent against real HTTPS on loopback (the emulator's image server, its CA, node:tls through the transport
// port): each bad input refused with a typed error in firmware.error and the running image untouched; a download in
// fragments with drops, 5xx and resume; and a power cut at every write step of download and install.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ImageServer } from '../../emulator/src/fota/image-server';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { pemToDer } from '../../emulator/src/pki';
import { createMemoryStore, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { MemorySlot } from '../../hosts/virtual/memory-slot';
import { FotaAgent } from '../../src/fota/fota-agent';
import type { FotaStatus } from '../../src/fota/fota-state';
import type { KeyValueStore } from '../../src/ports';
import { image, ReportedTwin, sha256Hex, signedFirmware, STRANGER, VENDOR_A, VENDOR_B, type SignOptions } from './fota-fixture';

const tls = createTlsMaterial();
const caDer = pemToDer(tls.ca.certPem);
const FAST = { minDelayMs: 5, maxDelayMs: 20, maxJitterMs: 0, throttledMinMs: 5, throttledMaxMs: 10 };
const NEW = image(10_000, 1);
let server: ImageServer;

beforeAll(async () => {
  server = await ImageServer.start(tls);
  server.publish('/fw/1.2.0.bin', NEW);
});

afterAll(async () => {
  await server.close();
});

interface Device {
  agent: FotaAgent;
  twin: ReportedTwin;
  slot: MemorySlot;
  store: KeyValueStore;
  reboots: number;
  lines: string[];
}

function device(options: { slot?: MemorySlot; store?: KeyValueStore; running?: string; storeFailAt?: number } = {}): Device {
  const twin = new ReportedTwin();
  const slot = options.slot ?? new MemorySlot(options.running ?? '1.0.0', 64 * 1024);
  const store = options.store ?? createMemoryStore();
  const lines: string[] = [];
  const d: Device = { agent: undefined as unknown as FotaAgent, twin, slot, store, reboots: 0, lines };
  d.agent = new FotaAgent({
    hub: twin,
    transport: createNodeTlsTransportFactory(),
    timers: createNodeTimers(),
    store,
    slot,
    random: () => 0,
    trustedCAs: [caDer],
    keys: [VENDOR_A.publicKey, VENDOR_B.publicKey],
    runningVersion: options.running ?? slot.reboot(),
    maxFragmentBytes: 4096,
    reboot: () => void d.reboots++,
    log: (level, message) => void lines.push(`${level} ${message}`),
    backoff: FAST,
    connectTimeoutMs: 5000,
  });
  return d;
}

function firmware(options: Partial<SignOptions> = {}, bytes = NEW): Record<string, unknown> {
  return signedFirmware(bytes, { version: '1.2.0', port: server.port, ...options });
}

async function settle(d: Device, until: FotaStatus[] = ['failed', 'rebooting', 'current']): Promise<void> {
  for (let i = 0; i < 1000 && !until.includes(d.agent.status); i++) await new Promise((r) => setTimeout(r, 10));
  await d.agent.settled;
  await d.agent.settled;
}

describe('refused before anything is fetched: typed error in firmware.error, ack 400, the slot untouched', () => {
  test.each([
    ['manifest JSON that is not an object', () => '["not", "an", "object"]', 'not-object'],
    ['a wrong signature', () => ({ ...firmware(), signature: firmware({ version: '9.9.9' })['signature'] }), 'bad-signature'],
    ['an unknown key', () => firmware({ key: STRANGER }), 'unknown-key'],
    ['a downgrade', () => firmware({ version: '0.9.0' }), 'downgrade'],
    ['oversize (larger than the slot)', () => firmware({ size: 100_000 }), 'oversize'],
  ])('%s', async (_name, value, code) => {
    const d = device();
    d.agent.onDesired({ firmware: value() as never, $version: 4 }, 4);
    await settle(d);
    expect(d.agent.status).toBe('failed');
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', currentFwVersion: '1.0.0', error: { code }, ac: 400, av: 4 });
    expect(d.slot.writes).toBe(0);
    expect(d.slot.boot).toEqual({ version: '1.0.0', trial: false });
    expect(server.requests.filter((r) => r.path === '/never')).toEqual([]);
  });

  test('a downgrade the manifest allows is downloaded', async () => {
    server.publish('/fw/0.9.0.bin', NEW);
    const d = device();
    d.agent.onDesired({ firmware: firmware({ version: '0.9.0', allowDowngrade: true }) as never }, 2);
    await settle(d);
    expect(d.agent.status).toBe('rebooting');
    expect(d.slot.boot).toEqual({ version: '0.9.0', trial: true });
  });

  test('the version already running is reported current at once (ack 200)', async () => {
    const d = device({ running: '1.2.0' });
    d.agent.onDesired({ firmware: firmware() as never }, 3);
    await settle(d);
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'current', currentFwVersion: '1.2.0', ac: 200, av: 3 });
    expect(d.twin.patches[0]).toMatchObject({ firmware: { pendingFwVersion: null, error: null } });
    expect(d.slot.writes).toBe(0);
  });
});

describe('refused after fetching: the image is dropped, the old one stays bootable', () => {
  test.each([
    ['a tampered image (one byte flipped on the server)', '/fw/tampered.bin', 'hash-mismatch'],
    ['a short download (the server holds fewer bytes)', '/fw/short.bin', 'short-download'],
    ['a longer file on the server than the manifest says', '/fw/long.bin', 'oversize'],
    ['404', '/fw/missing.bin', 'download'],
  ])('%s', async (_name, path, code) => {
    const tampered = NEW.slice();
    tampered[7777] ^= 0x01;
    server.publish('/fw/tampered.bin', tampered);
    server.publish('/fw/short.bin', NEW.subarray(0, 9000));
    server.publish('/fw/long.bin', image(12_000, 1));
    const d = device();
    d.agent.onDesired({ firmware: firmware({ path }) as never }, 5);
    await settle(d);
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', currentFwVersion: '1.0.0', error: { code }, ac: 500 });
    expect(d.slot.boot).toEqual({ version: '1.0.0', trial: false });
    expect(d.slot.finished && code !== 'hash-mismatch').toBe(false);
    expect(d.reboots).toBe(0);
  });
});

describe('a corrupted mirror (the image server flips one bit of byte 5000)', () => {
  test('is refused as hash-mismatch after the download; nothing is activated', async () => {
    server.inject({ kind: 'flip', offset: 5000 });
    try {
      const d = device();
      d.agent.onDesired({ firmware: firmware() as never }, 8);
      await settle(d);
      expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', error: { code: 'hash-mismatch', field: 'sha256' }, ac: 500 });
      expect(d.twin.statuses().slice(-2)).toEqual(['verifying', 'failed']);
      expect(d.slot.boot).toEqual({ version: '1.0.0', trial: false });
    } finally {
      server.clearFaults();
    }
  });
});

describe('a download in fragments', () => {
  test('10 fragments of 1 KB; drops, a 503 and a 500 on the way are retried from the last fragment stored', async () => {
    server.requests.length = 0;
    server.inject({ kind: 'status', status: 503, at: 1 });
    server.inject({ kind: 'drop', afterBytes: 300, at: 6 });
    server.inject({ kind: 'status', status: 500, at: 7 });
    const d = device();
    d.agent.onDesired({ firmware: firmware({ fragmentSize: 1024 }) as never }, 6);
    await settle(d);
    expect(server.requests.map((r) => `${r.status} ${r.range} ${r.bytes}`)).toEqual([
      '503 bytes=0-1023 0',
      '206 bytes=0-1023 1024',
      '206 bytes=1024-2047 1024',
      '206 bytes=2048-3071 1024',
      '206 bytes=3072-4095 1024',
      '206 bytes=4096-5119 300',
      '500 bytes=4096-5119 0',
      '206 bytes=4096-5119 1024',
      '206 bytes=5120-6143 1024',
      '206 bytes=6144-7167 1024',
      '206 bytes=7168-8191 1024',
      '206 bytes=8192-9215 1024',
      '206 bytes=9216-9999 784',
    ]);
    expect(d.agent.status).toBe('rebooting');
    expect(sha256Hex(d.slot.bytes)).toBe(sha256Hex(NEW));
    expect(d.twin.statuses()).toEqual(['downloading', ...Array(10).fill('downloading'), 'verifying', 'applying', 'rebooting']);
    expect(d.twin.patches.map((p) => (p['firmware'] as Record<string, unknown>)['progress'])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, null, null, null]);
    expect(d.twin.firmware).toMatchObject({ fwUpdateStatus: 'rebooting', currentFwVersion: '1.0.0', pendingFwVersion: '1.2.0', jobId: 'job-1.2.0', ac: 202 });
    expect(d.reboots).toBe(1);
    // Another request while the reboot is pending waits for the whole twin after it.
    d.agent.onDesired({ firmware: firmware({ version: '1.3.0' }) as never }, 7);
    expect([d.agent.status, d.lines.at(-1)]).toEqual(['rebooting', 'info fota: desired firmware (version 7) left for after the reboot']);

    // The reboot: the new image runs, confirms itself and reports current (ack 200).
    const after = device({ slot: d.slot, store: d.store });
    after.agent.start();
    await settle(after, ['current', 'failed']);
    // The acknowledgement after the reboot answers the desired $version of the request (6), kept in the record.
    expect(after.twin.firmware).toMatchObject({ fwUpdateStatus: 'current', currentFwVersion: '1.2.0', jobId: 'job-1.2.0', ac: 200, av: 6 });
    expect(d.slot.boot).toEqual({ version: '1.2.0', trial: false });
    // The same desired twin after the reconnect is not done again.
    after.agent.onDesired({ firmware: firmware({ fragmentSize: 1024 }) as never }, 6);
    await settle(after, ['current']);
    expect(after.twin.firmware).toMatchObject({ fwUpdateStatus: 'current', ac: 200 });
  });

  test('a reboot that comes back on the old image (no confirm) is reported as rolled back', async () => {
    const d = device();
    d.agent.onDesired({ firmware: firmware() as never }, 7);
    await settle(d);
    d.slot.rollback(); // what an ESP32 bootloader does with an image that did not confirm
    const after = device({ slot: d.slot, store: d.store });
    after.agent.start();
    await settle(after, ['failed', 'current']);
    expect(after.twin.firmware).toMatchObject({ fwUpdateStatus: 'failed', currentFwVersion: '1.0.0', error: { code: 'rolled-back' }, ac: 500 });
  });
});

/** A store whose Nth write (set or delete) fails, like a power cut: that write and every later one do not happen. */
function cuttableStore(counter: { writes: number; failAt: number | undefined }): KeyValueStore {
  const inner = createMemoryStore();
  const step = (): void => {
    counter.writes++;
    if (counter.failAt !== undefined && counter.writes >= counter.failAt) throw new Error(`power cut at write ${counter.writes}`);
  };
  return {
    get: (key) => inner.get(key),
    set: (key, value) => {
      step();
      inner.set(key, value);
    },
    delete: (key) => {
      step();
      inner.delete(key);
    },
    keys: () => inner.keys(),
  };
}

describe('a power cut at every write step of download and install', () => {
  test('leaves the old image running or the new one fully verified, and the update completes after power returns', async () => {
    const small = image(3000, 9);
    server.publish('/fw/cut.bin', small);
    const value = signedFirmware(small, { version: '1.2.0', port: server.port, path: '/fw/cut.bin', fragmentSize: 1024 });
    // One uninterrupted run counts the steps (slot calls and store writes, one shared counter).
    const counter = { writes: 0, failAt: undefined as number | undefined };
    const probe = device({ store: cuttableStore(counter) });
    const slotSteps = (): number => probe.slot.writes;
    probe.agent.onDesired({ firmware: value as never }, 1);
    await settle(probe);
    expect(probe.agent.status).toBe('rebooting');
    const total = counter.writes + slotSteps();
    // begin, 3 x (slot write, progress record), finish, record verified, activate, record installed
    expect(total).toBe(11);

    for (let cut = 1; cut <= total; cut++) {
      const slot = new MemorySlot('1.0.0', 64 * 1024);
      const store = createMemoryStore();
      // Both fail from the cut-th step on, counted together.
      let steps = 0;
      const cutNow = (): void => {
        steps++;
        if (steps >= cut) throw new Error(`power cut at step ${steps}`);
      };
      const guarded = new Proxy(slot, {
        get(target, name, receiver) {
          const v = Reflect.get(target, name, receiver) as unknown;
          if (typeof v === 'function' && ['begin', 'write', 'finish', 'activate', 'confirm', 'rollback'].includes(String(name))) {
            return (...args: unknown[]) => {
              cutNow();
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return v;
        },
      });
      const cutStore: KeyValueStore = {
        get: (key) => store.get(key),
        set: (key, v) => {
          cutNow();
          store.set(key, v);
        },
        delete: (key) => {
          cutNow();
          store.delete(key);
        },
        keys: () => store.keys(),
      };
      const first = device({ slot: guarded, store: cutStore, running: '1.0.0' });
      first.agent.onDesired({ firmware: value as never }, 1);
      await settle(first);
      first.agent.stop();

      // The power comes back: what boots is the old image, or the new one only when it was verified and activated.
      const booted = slot.reboot();
      if (booted === '1.2.0') expect([cut, sha256Hex(slot.bytes), slot.finished]).toEqual([cut, sha256Hex(small), true]);
      else expect([cut, booted]).toEqual([cut, '1.0.0']);

      // The device reconnects: start() settles what the last boot left, the desired twin resumes or finishes the job.
      const second = device({ slot, store, running: booted });
      second.agent.start();
      second.agent.onDesired({ firmware: value as never }, 1);
      await settle(second);
      if (second.agent.status === 'rebooting') {
        const third = device({ slot, store, running: slot.reboot() });
        third.agent.start();
        await settle(third, ['current', 'failed']);
        expect([cut, third.agent.status, slot.boot]).toEqual([cut, 'current', { version: '1.2.0', trial: false }]);
      } else {
        expect([cut, second.agent.status, slot.boot]).toEqual([cut, 'current', { version: '1.2.0', trial: false }]);
      }
    }
  });
});
