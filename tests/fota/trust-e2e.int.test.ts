// Signed root-certificate updates end to end on the Node host against the emulator: src/main.ts with the FOTA module
// and its trust part. A signed bundle whose roots do not include the emulator's CA is tried for one boot, the hub's
// certificate fails verification (tls-verify), the device goes back to its old roots, reports rolled-back and stays
// connected; a good bundle becomes active after one connection and is still in force after a power cycle.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { createNodeHost } from '../../hosts/node';
import { DEFAULT_CERTS_DIR, loadDefaultRoots } from '../../hosts/node/default-roots';
import { FileSlot } from '../../hosts/node/file-slot';
import { FileStore } from '../../hosts/node/file-store';
import { fotaModule } from '../../src/fota/fota-module';
import { TrustBundles } from '../../src/fota/trust-bundle';
import { Firmware } from '../../src/main';
import { bundleSha256Hex, image, signedFirmware, VENDOR_A } from './fota-fixture';

const tls = createTlsMaterial();
const DIGICERT = new Uint8Array(readFileSync(`${DEFAULT_CERTS_DIR}digicert-global-root-g2.der`));
let emulator: Emulator;
let folder: string;

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls, dps: true });
  folder = mkdtempSync(join(tmpdir(), 'trust-e2e-'));
});

afterAll(async () => {
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

/** One power-on of the device: a new firmware object, new modules, on the same store file. */
function powerOn(base: string, lines: string[], config?: Record<string, unknown>): Firmware {
  const store = new FileStore({ path: `${base}.bin` });
  const host = createNodeHost({ logLevel: 'debug', logger: { write: (line) => void lines.push(line) }, store });
  const slot = new FileSlot(base, '0.1.0');
  const trust = new TrustBundles({ store, maxBytes: 16 * 1024, log: (message) => host.logger.log('info', `fota: ${message}`) });
  const fota = fotaModule({ slot, keys: [VENDOR_A.publicKey, undefined], runningVersion: () => '0.1.0', maxFragmentBytes: 4096, trust });
  return new Firmware(host, config ?? { connectionString: emulator.connectionString('trust-dev'), telemetryIntervalMs: 60_000 }, {
    hostKind: 'node-test',
    defaultRoots: loadDefaultRoots(),
    extraCAs: [emulator.caDer],
    hubClient: { connectTimeoutMs: 5000 },
    modules: [fota],
    firmwareVersion: () => '0.1.0',
  });
}

describe('root-certificate bundles from the twin, on Node against the emulator', () => {
  test('a bundle without the hub CA rolls back after a tls-verify; a good one is active after one connection and survives a power cycle', async () => {
    emulator.addDevice('trust-dev');
    const base = join(folder, 'trust-dev');
    const lines: string[] = [];
    const trust = (): Record<string, unknown> => (emulator.getTwin('trust-dev').reported['trust'] ?? {}) as Record<string, unknown>;
    const connects = (): number => lines.filter((l) => /firmware: connected to the hub as device trust-dev/.test(l)).length;
    const running = image(1000, 4);

    let firmware = powerOn(base, lines);
    try {
      expect(await firmware.start()).toBe('running');

      // A roots-only update (the running version) whose bundle holds only DigiCert: not the emulator's CA.
      const bad = [DIGICERT];
      emulator.patchDesired('trust-dev', { firmware: signedFirmware(running, { version: '0.1.0', jobId: 'roots-bad', trustBundle: bad }) });
      await until('rolled back', () => trust()['status'] === 'rolled-back', lines);
      expect(trust()).toEqual({ status: 'rolled-back', rejectedSha256: bundleSha256Hex(bad), error: { code: 'rolled-back', message: `the hub's certificate did not verify with bundle ${bundleSha256Hex(bad).slice(0, 8)}; old roots kept` } });
      expect(lines.some((l) => /firmware: trust: 1 root\(s\) from flash in place of the built-in ones/.test(l))).toBe(true);
      expect(lines.some((l) => /hub: connecting failed: transport failed \(tls-verify\)/.test(l))).toBe(true);
      expect(lines.some((l) => /firmware: trust: the new roots failed verification; booting again with the old ones/.test(l))).toBe(true);
      await until('connected again', () => firmware.state === 'running' && connects() >= 2, lines);
      await until('current', () => (emulator.getTwin('trust-dev').reported['firmware'] as Record<string, unknown> | undefined)?.['fwUpdateStatus'] === 'current', lines);

      // A good bundle: the emulator's CA and DigiCert.
      const good = [emulator.caDer, DIGICERT];
      const before = connects();
      emulator.patchDesired('trust-dev', { firmware: signedFirmware(running, { version: '0.1.0', jobId: 'roots-good', trustBundle: good }) });
      await until('active', () => trust()['status'] === 'active', lines);
      expect(trust()).toEqual({ status: 'active', sha256: bundleSha256Hex(good), roots: 2 });
      expect(connects()).toBe(before + 1);
      expect(lines.filter((l) => /firmware: trust: 2 root\(s\) from flash in place of the built-in ones/.test(l))).toHaveLength(1);
      await until('running', () => firmware.state === 'running', lines);
    } finally {
      await firmware.stop();
    }

    // Power cycle: the stored bundle is in force from the first boot on.
    firmware = powerOn(base, lines);
    try {
      expect(await firmware.start()).toBe('running');
      expect(lines.filter((l) => /firmware: trust: 2 root\(s\) from flash in place of the built-in ones/.test(l))).toHaveLength(2);
      await until('reported active again', () => trust()['status'] === 'active', lines);
    } finally {
      await firmware.stop();
    }
  });

  test('DPS refusing a bundle on trial (tls-verify) rolls it back the same way; the device provisions with the old roots', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    emulator.dps!.enrollments.addIndividual({ registrationId: 'trust-dps', attestation: { type: 'symmetricKey', primaryKey: key, secondaryKey: key }, pollsBeforeAssigned: 0, retryAfterSeconds: 0 });
    const base = join(folder, 'trust-dps');
    // A bundle without the emulator's CA already pending in flash (deployed before a power cut, say).
    const bundle = new TrustBundles({ store: new FileStore({ path: `${base}.bin` }), maxBytes: 16 * 1024 });
    expect(bundle.offer([Buffer.from(DIGICERT).toString('base64')], bundleSha256Hex([DIGICERT]))).toEqual({ ok: true, value: true });

    const lines: string[] = [];
    const config = { idScope: emulator.dps!.idScope, registrationId: 'trust-dps', symmetricKey: key, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}`, telemetryIntervalMs: 60_000 };
    const firmware = powerOn(base, lines, config);
    try {
      void firmware.start();
      await until('running', () => firmware.state === 'running', lines, 20_000);
      expect(lines.some((l) => /firmware: trust: 1 root\(s\) from flash in place of the built-in ones/.test(l))).toBe(true);
      expect(lines.some((l) => /tls-verify/.test(l) && /dps|DPS|provision/.test(l))).toBe(true);
      expect(lines.some((l) => /firmware: trust: the new roots failed verification; booting again with the old ones/.test(l))).toBe(true);
      const reported = (): Record<string, unknown> => (emulator.getTwin('trust-dps').reported['trust'] ?? {}) as Record<string, unknown>;
      await until('rolled-back reported', () => reported()['status'] === 'rolled-back', lines);
      expect(reported()).toMatchObject({ status: 'rolled-back', rejectedSha256: bundleSha256Hex([DIGICERT]) });
    } finally {
      await firmware.stop();
    }
  });
});
