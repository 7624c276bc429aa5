// The modem transport on the real XS engine under the Moddable SDK: hosts/moddable/main-modem (the nrf52 section's
// main) built for the Linux simulator with ECMA-419 embedded:io/serial, run in mcsim under a virtual X display,
// its UART a pseudo-terminal bridged (tests/moddable/pty-bridge.py) to the modem emulator, which does TLS from its
// security tag to the hub and DPS emulator. DPS with the tag's X.509 credential, then telemetry, a desired
// property, a direct method and C2D. Needs the Moddable SDK ($MODDABLE) and python3 (the pty); skips without.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { ModemEmulator } from '../../emulator/src/modem/modem-emulator';
import type { TelemetryMessage } from '../../emulator/src/hub/telemetry';
import { runIotStoreCommand } from '../../scripts/iot-store';
import { readManifest } from '../../scripts/moddable-manifest.mjs';
import { BUILD_TIMEOUT_MS, buildForSimulator, MODDABLE, REPO, requireMcconfig, Simulator, waitUntil, type Built } from './mcsim-harness';

const REGISTRATION_ID = 'mcsim-modem-device';
const TAG = 16842753;
const RUN_TIMEOUT_MS = 120_000;
const hasPython = spawnSync('python3', ['--version']).status === 0;

if (!MODDABLE || !hasPython) {
  console.log(`skipped: ${!MODDABLE ? '$MODDABLE is not set (a Moddable SDK checkout with its tools built)' : 'python3 is missing (it makes the pty mcsim opens as its UART)'}`);
  test.skip('the modem transport in mcsim over a pty (needs $MODDABLE and python3)', () => undefined);
} else {
  describe('main-modem on the Moddable simulator, UART over a pty to the modem emulator', () => {
    let work: string;
    let emulator: Emulator | undefined;
    let modem: ModemEmulator | undefined;
    let bridge: ChildProcess | undefined;
    let simulator: Simulator | undefined;
    let build: Built;
    const telemetry: TelemetryMessage[] = [];
    let lines: string[] = [];
    let methodStatus: number | undefined;
    let c2dCompleted = false;
    let reported = false;

    beforeAll(async () => {
      requireMcconfig();
      const device = issueDeviceCertificate(REGISTRATION_ID);
      emulator = await Emulator.start({ persist: false, hubHostName: 'localhost' });
      const dps = emulator.dps!;
      dps.enrollments.addIndividual({ registrationId: REGISTRATION_ID, attestation: { type: 'x509', primaryThumbprint: thumbprint(device.certDer) }, retryAfterSeconds: 0 });
      emulator.on('telemetry', (m) => telemetry.push(m));
      emulator.on('twin', (e) => void (reported ||= e.deviceId === REGISTRATION_ID && e.section === 'reported' && 'telemetryInterval' in e.patch));
      emulator.on('c2d', (e) => void (c2dCompleted ||= e.deviceId === REGISTRATION_ID && e.outcome === 'completed'));
      modem = await ModemEmulator.start();

      work = mkdtempSync(join(tmpdir(), 'moddable-modem-'));
      for (const dir of ['app', 'prefs', 'build', 'tmp']) mkdirSync(join(work, dir));
      writeFileSync(join(work, 'ca.pem'), emulator.caPem);
      writeFileSync(join(work, 'cert.pem'), device.certPem);
      writeFileSync(join(work, 'key.pem'), device.keyPem);
      const code = await runIotStoreCommand(
        ['modem', '--tcp', `127.0.0.1:${modem.port}`, 'write', String(TAG), '--ca', join(work, 'ca.pem'), '--cert', join(work, 'cert.pem'), '--key', join(work, 'key.pem')],
        { stdout: () => undefined, stderr: (t) => console.log(t) },
      );
      if (code !== 0) throw new Error('iot-store modem write failed');

      bridge = spawn('python3', [join(REPO, 'tests/moddable/pty-bridge.py'), '127.0.0.1', String(modem.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pty = await new Promise<string>((resolve, reject) => {
        bridge!.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
        bridge!.once('exit', () => reject(new Error('the pty bridge ended')));
      });

      // The firmware's manifest, built as its nrf52 section builds it: main-modem and the modem modules, plus
      // ECMA-419 IO (embedded:io/serial), on lin; the UART is the pty.
      const nrf52 = readManifest().platforms!.nrf52!;
      const manifest = {
        include: [join(REPO, 'manifest.json'), '$(MODDABLE)/modules/io/manifest.json'],
        creation: { main: 'hosts/moddable/main-modem' },
        modules: Object.fromEntries(Object.entries(nrf52.modules!).map(([name, path]) => [name, join(REPO, path)])),
        preload: nrf52.preload,
        config: { file: { root: `${join(work, 'prefs')}/` } },
      };
      writeFileSync(join(work, 'app/manifest.json'), JSON.stringify(manifest, null, 2));
      const settings = [
        `idScope=${dps.idScope}`,
        `registrationId=${REGISTRATION_ID}`,
        `securityTag=${TAG}`,
        `dpsEndpoint=localhost:${dps.port}`,
        `hubEndpoint=localhost:${emulator.hubPort}`,
        `modemDevice=${pty}`,
        'modemPollMs=50',
        'telemetryIntervalMs=1000',
      ];
      build = await buildForSimulator(work, ['-t', 'build', '-o', join(work, 'build'), join(work, 'app/manifest.json'), ...settings]);
      if (!build.library) return;
      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const sim = simulator;
      const mine = () => telemetry.filter((m) => m.deviceId === REGISTRATION_ID).length;
      await waitUntil(() => mine() >= 2 && emulator!.isConnected(REGISTRATION_ID), RUN_TIMEOUT_MS, () => !sim.running);
      if (emulator.isConnected(REGISTRATION_ID)) {
        emulator.patchDesired(REGISTRATION_ID, { telemetryInterval: 2000 });
        methodStatus = (await emulator.invokeMethod(REGISTRATION_ID, 'setTelemetryInterval', { telemetryIntervalMs: 1000 }, { timeoutMs: 20_000 })).status;
        emulator.sendC2D(REGISTRATION_ID, 'hello from the cloud over LTE');
        await waitUntil(() => reported && c2dCompleted, 30_000, () => !sim.running);
      }
      await sim.stop();
      lines = sim.output.split('\n').filter((line) => line.startsWith('['));
      console.log(`mcconfig ${build.ms} ms; the app printed:\n${lines.slice(0, 80).join('\n')}`);
    }, BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS + 90_000);

    afterAll(async () => {
      await simulator?.stop();
      bridge?.kill('SIGTERM');
      await modem?.stop();
      await emulator?.stop();
      if (work && !process.env.MODDABLE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    });

    test('mcconfig -m -p lin builds main-modem with embedded:io/serial', () => {
      expect(build.output).not.toMatch(/error TS[0-9]+/);
      expect(build.code).toBe(0);
    });

    test('the modem opened the secure socket with the security tag', () => {
      expect(modem!.commands).toContain(`AT#XSSOCKET=1,1,0,${TAG},2`);
      expect(lines.some((l) => l.includes('modem: LTE registered'))).toBe(true);
    });

    test('DPS registered the device with the X.509 certificate held by the modem', () => {
      expect(emulator!.registry.getDevice(REGISTRATION_ID)?.auth).toMatchObject({ type: 'x509-thumbprint' });
    });

    test('telemetry, twin, method and C2D went through AT, the modem and TLS', () => {
      expect(telemetry.filter((m) => m.deviceId === REGISTRATION_ID).length).toBeGreaterThanOrEqual(2);
      expect(reported).toBe(true);
      expect(methodStatus).toBe(200);
      expect(c2dCompleted).toBe(true);
    });
  });
}
