// FOTA end to end on the Node host against the emulator: the firmware (src/main.ts with the FOTA module wired in)
// connects to the hub over TLS, the twin's desired `firmware` names a signed image the emulator's HTTPS server holds,
// the device downloads it in 10 fragments (the connection dropped in the middle, then resumed), verifies it, applies
// it to the file slot beside its store, reboots, and reports `current` with the new version.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { ImageServer } from '../../emulator/src/fota/image-server';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeHost } from '../../hosts/node';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { FileSlot } from '../../hosts/node/file-slot';
import { FileStore } from '../../hosts/node/file-store';
import { fotaModule } from '../../src/fota/fota-module';
import { Firmware } from '../../src/main';
import { image, sha256Hex, signedFirmware, VENDOR_A, VENDOR_B } from './fota-fixture';

const tls = createTlsMaterial();
let emulator: Emulator;
let images: ImageServer;
let folder: string;

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls, dps: false });
  images = await ImageServer.start(tls);
  folder = mkdtempSync(join(tmpdir(), 'fota-e2e-'));
});

afterAll(async () => {
  await images.close();
  await emulator.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, lines: string[], timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not ${what} within ${timeoutMs} ms:\n${lines.slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('an update from the twin, on Node against the emulator', () => {
  test('deploy, 10 fragments with a drop and a resume, verify, apply, reboot, report current 1.2.0', async () => {
    emulator.addDevice('fota-dev');
    const newImage = image(10_240, 5);
    images.publish('/fw/1.2.0.bin', newImage);

    const lines: string[] = [];
    const base = join(folder, 'fota-dev');
    const store = new FileStore({ path: `${base}.bin` });
    const slot = new FileSlot(base, '0.1.0');
    const host = createNodeHost({ logLevel: 'debug', logger: { write: (line) => void lines.push(line) }, store });
    let running = '0.1.0';
    const fota = fotaModule({
      slot,
      keys: [VENDOR_A.publicKey, VENDOR_B.publicKey],
      runningVersion: () => running,
      maxFragmentBytes: 4096,
      backoff: { minDelayMs: 20, maxDelayMs: 100, maxJitterMs: 0, throttledMinMs: 20, throttledMaxMs: 40 },
      connectTimeoutMs: 5000,
    });
    const firmware = new Firmware(host, { connectionString: emulator.connectionString('fota-dev'), telemetryIntervalMs: 60_000 }, {
      hostKind: 'node-test',
      defaultRoots: loadDefaultRoots(),
      extraCAs: [emulator.caDer],
      hubClient: { connectTimeoutMs: 5000 },
      modules: [fota],
      firmwareVersion: () => running,
    });
    // Every boot asks the slot what it runs (a trial image counts its start).
    firmware.on('state', ({ state }) => {
      if (state === 'waiting-for-clock') running = slot.startVersion();
    });
    try {
      expect(await firmware.start()).toBe('running');
      const reported = (): Record<string, unknown> => (emulator.getTwin('fota-dev').reported['firmware'] ?? {}) as Record<string, unknown>;

      // Deploy: the desired `firmware` object, as `npm run iot-store -- fota sign` prints it.
      images.requests.length = 0;
      images.inject({ kind: 'drop', afterBytes: 500, at: 5 });
      const desired = signedFirmware(newImage, { version: '1.2.0', port: images.port, fragmentSize: 1024, jobId: 'job-42' });
      emulator.patchDesired('fota-dev', { firmware: desired });

      await until('current', () => reported()['fwUpdateStatus'] === 'current', lines, 30_000);
      expect(reported()).toMatchObject({ fwUpdateStatus: 'current', currentFwVersion: '1.2.0', jobId: 'job-42', ac: 200, ad: 'updated to 1.2.0', value: { fwVersion: '1.2.0', jobId: 'job-42' } });
      expect(running).toBe('1.2.0');
      expect(emulator.getTwin('fota-dev').reported).toMatchObject({ firmwareVersion: '1.2.0' });

      // 10 whole fragments, one cut after 500 bytes and asked for again from its first byte.
      const ranges = images.requests.filter((r) => r.status === 206);
      const cut = ranges.find((r) => r.bytes === 500)!;
      expect(cut).toBeDefined();
      expect(ranges.filter((r) => r.bytes === 1024).map((r) => r.range)).toEqual(Array.from({ length: 10 }, (_, i) => `bytes=${i * 1024}-${i * 1024 + 1023}`));
      expect(ranges.filter((r) => r.range === cut.range)).toHaveLength(2);
      expect(sha256Hex(readFileSync(`${base}.slot`))).toBe(sha256Hex(newImage));
      expect(JSON.parse(readFileSync(`${base}.boot`, 'utf8'))).toEqual({ version: '1.2.0' });
      expect(lines.some((l) => /fota: http: connection ended with 524 body bytes to come; resuming at byte \d+ in \d+ ms/.test(l))).toBe(true);
      expect(lines.some((l) => /firmware: restarting \(restart #1\)/.test(l))).toBe(true);
    } finally {
      await firmware.stop();
    }
  });
});
