// FOTA on the Moddable simulator: manifest_fota.json (the firmware with the FOTA module, tweetnacl as an ES
// module, the file slot) built with the real SDK for lin and run in mcsim against the emulator. The twin's desired
// `firmware` names a signed image the emulator serves over HTTPS; the device downloads it in fragments, checks the
// Ed25519 signature and SHA-256 on XS, writes the file slot, restarts in place and reports `current` 1.2.0.
// Then two signed root-certificate bundles for the running version: one without the emulator's CA (the hub's
// certificate fails verification, the old roots come back, `trust.status` is rolled-back) and a good one (active
// after one connection with it).
// Needs the Moddable SDK: runs only when $MODDABLE is set, otherwise skips with a message.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { writeTweetnaclModule } from '../../scripts/moddable-fota.mjs';
import { bundleSha256Hex, image, sha256Hex, signedFirmware, VENDOR_A, VENDOR_B } from '../fota/fota-fixture';
import { BUILD_TIMEOUT_MS, buildForSimulator, emulatorSettings, MODDABLE, REPO, requireMcconfig, Simulator, waitUntil, type Built } from './mcsim-harness';

const REGISTRATION_ID = 'mcsim-fota-device';
const RUN_TIMEOUT_MS = 150_000;

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable to build manifest_fota.json with mcconfig and update the firmware in mcsim)');
  test.skip('FOTA in mcsim against the emulator (needs $MODDABLE)', () => undefined);
} else {
  describe('FOTA on the Moddable simulator (manifest_fota.json) against the emulator', () => {
    let work: string;
    let emulator: Emulator | undefined;
    let simulator: Simulator | undefined;
    let build: Built;
    let output = '';
    let reported: Record<string, unknown> = {};
    let ranges: string[] = [];
    let rolledBack: Record<string, unknown> = {};
    let activated: Record<string, unknown> = {};
    const newImage = image(20_000, 11);
    const digicert = new Uint8Array(readFileSync(join(REPO, 'certs/digicert-global-root-g2.der')));

    beforeAll(async () => {
      requireMcconfig();
      emulator = await Emulator.start({ persist: false, hubHostName: 'localhost' });
      const dps = emulator.dps!;
      const groupKey = randomBytes(32).toString('base64');
      dps.enrollments.addGroup({ enrollmentGroupId: 'mcsim-fota-fleet', attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: randomBytes(32).toString('base64') } });

      work = mkdtempSync(join(tmpdir(), 'moddable-fota-'));
      for (const dir of ['app', 'files', 'build', 'tmp']) mkdirSync(join(work, dir));
      // tweetnacl as an ES module where manifest_fota.json expects it (what `node scripts/moddable-fota.mjs --write` does).
      writeTweetnaclModule(join(REPO, 'build/moddable-fota'));
      const manifest = { include: [join(REPO, 'manifest_fota.json')], config: { file: { root: `${join(work, 'files')}/` } } };
      writeFileSync(join(work, 'app/manifest.json'), JSON.stringify(manifest, null, 2));
      const keys = [VENDOR_A.publicKey, VENDOR_B.publicKey].map((k) => Buffer.from(k).toString('base64')).join(',');
      const settings = [
        ...emulatorSettings({ idScope: dps.idScope, registrationId: REGISTRATION_ID, groupKey, dpsPort: dps.port, hubPort: emulator.hubPort, caDer: emulator.caDer }),
        'telemetryIntervalMs=60000',
        `fotaKeys=${keys}`,
        'fotaFragmentBytes=2048',
      ];
      build = await buildForSimulator(work, ['-t', 'build', '-o', join(work, 'build'), join(work, 'app/manifest.json'), ...settings]);
      if (!build.library) return;

      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const sim = simulator;
      const em = emulator;
      const firmwareOf = (): Record<string, unknown> => {
        try {
          return (em.getTwin(REGISTRATION_ID).reported['firmware'] ?? {}) as Record<string, unknown>;
        } catch {
          return {};
        }
      };
      await waitUntil(() => em.isConnected(REGISTRATION_ID), 60_000, () => !sim.running);
      if (em.isConnected(REGISTRATION_ID)) {
        const desired = signedFirmware(newImage, { version: '1.2.0', fragmentSize: 2048, jobId: 'mcsim-job' });
        await em.deployFirmware(REGISTRATION_ID, newImage, desired, 'localhost');
        await waitUntil(() => firmwareOf()['fwUpdateStatus'] === 'current' || firmwareOf()['fwUpdateStatus'] === 'failed', RUN_TIMEOUT_MS, () => !sim.running);
      }
      reported = firmwareOf();
      ranges = (await em.fotaImages()).requests.filter((r) => r.status === 206).map((r) => `${r.range} ${r.bytes}`);
      if (reported['fwUpdateStatus'] === 'current') {
        const trustOf = (): Record<string, unknown> => {
          try {
            return (em.getTwin(REGISTRATION_ID).reported['trust'] ?? {}) as Record<string, unknown>;
          } catch {
            return {};
          }
        };
        const roots = (jobId: string, bundle: Uint8Array[]): Record<string, unknown> => signedFirmware(newImage, { version: '1.2.0', fragmentSize: 2048, jobId, host: 'localhost', trustBundle: bundle });
        em.patchDesired(REGISTRATION_ID, { firmware: roots('roots-bad', [digicert]) });
        await waitUntil(() => trustOf()['status'] === 'rolled-back', RUN_TIMEOUT_MS, () => !sim.running);
        rolledBack = trustOf();
        await waitUntil(() => em.isConnected(REGISTRATION_ID), 60_000, () => !sim.running);
        em.patchDesired(REGISTRATION_ID, { firmware: roots('roots-good', [em.caDer, digicert]) });
        await waitUntil(() => trustOf()['status'] === 'active', RUN_TIMEOUT_MS, () => !sim.running);
        activated = trustOf();
      }
      await sim.stop();
      output = sim.output;
      console.log(`mcconfig ${build.ms} ms; reported firmware ${JSON.stringify(reported)}; trust ${JSON.stringify(rolledBack)} then ${JSON.stringify(activated)}\nmcsim printed:\n${output.split('\n').filter((l) => /fota|firmware:|main:|trust/.test(l)).slice(-40).join('\n')}`);
    }, BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS + 90_000);

    afterAll(async () => {
      await simulator?.stop();
      await emulator?.stop();
      if (work && !process.env.MODDABLE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    });

    test('mcconfig builds manifest_fota.json for lin', () => {
      expect(build.output).not.toContain('typescript compile failure');
      expect(build.code).toBe(0);
    });

    test('the device downloads, verifies, applies to the file slot, restarts and reports current 1.2.0', () => {
      // 20,000 bytes in fragments of fotaFragmentBytes (2048): 10 range requests over the device's SecureSocket.
      expect(ranges).toEqual(Array.from({ length: 10 }, (_, i) => `bytes=${i * 2048}-${Math.min(i * 2048 + 2047, 19_999)} ${Math.min(2048, 20_000 - i * 2048)}`));
      expect(reported).toMatchObject({ fwUpdateStatus: 'current', currentFwVersion: '1.2.0', jobId: 'mcsim-job', ac: 200 });
      expect(output).toContain('fota: 1.2.0 installed; rebooting');
      expect(output).toContain('fota: running 1.2.0: update confirmed');
      expect(existsSync(join(work, 'files/fota.slot')) && sha256Hex(readFileSync(join(work, 'files/fota.slot')))).toBe(sha256Hex(newImage));
    });

    test('a root bundle without the hub CA is rolled back after tls-verify; a good one is active after one connection', () => {
      expect(rolledBack).toMatchObject({ status: 'rolled-back', rejectedSha256: bundleSha256Hex([digicert]) });
      expect(output).toContain('firmware: trust: 1 root(s) from flash in place of the built-in ones');
      expect(output).toContain('firmware: trust: the new roots failed verification; booting again with the old ones');
      expect(activated).toEqual({ status: 'active', sha256: bundleSha256Hex([emulator!.caDer, digicert]), roots: 2 });
      expect(output).toContain('firmware: trust: 2 root(s) from flash in place of the built-in ones');
    });
  });
}
