// The telemetry journal in the Moddable simulator: the firmware (manifest.json with the optional
// hosts/moddable/manifest_journal.json) built with telemetryJournalBytes set, run in mcsim against the emulator.
// The emulator is stopped, the simulator keeps taking readings, is stopped (as a power cut would: nothing flushed
// first) and started again while the emulator is still down, and once an emulator is back on the same ports every
// reading of the first boot reaches it, with the $.mid it was journaled with. Needs the Moddable SDK: runs only
// when $MODDABLE is set, otherwise skips with a message.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import type { TelemetryMessage } from '../../emulator/src/hub/telemetry';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { BUILD_TIMEOUT_MS, buildForSimulator, emulatorSettings, groupAlive, MODDABLE, REPO, requireMcconfig, Simulator, sleep, waitUntil, type Built } from './mcsim-harness';

const REGISTRATION_ID = 'mcsim-journal-device';
const GROUP_ID = 'mcsim-journal-fleet';
const RUN_TIMEOUT_MS = 90_000;
const SENT = /app: telemetry #\d+ sent/g;
const sentIn = (output: string): number => (output.match(SENT) ?? []).length;

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable to build the firmware with mcconfig and run it in mcsim against the emulator)');
  test.skip('telemetry journal in mcsim across a simulator restart (needs $MODDABLE)', () => undefined);
} else {
  describe('mcsim keeps readings across a restart of the simulator while the emulator is down, and sends them when it is back', () => {
    const groupKey = randomBytes(32).toString('base64');
    const deviceKey = createHmac('sha256', Buffer.from(groupKey, 'base64')).update(REGISTRATION_ID).digest('base64');
    const received: TelemetryMessage[] = [];
    let emulator: Emulator | undefined;
    let simulator: Simulator | undefined;
    let work: string;
    let build: Built;
    let outputs: string[] = [];
    let taken = 0;
    let takenWhileDown = 0;
    let leftover = false;

    const tls = createTlsMaterial();
    const startEmulator = async (ports?: { hubPort: number; dpsPort: number }): Promise<Emulator> => {
      const emu = await Emulator.start({ persist: false, hubHostName: 'localhost', tls, ...(ports ?? {}) });
      emu.dps!.enrollments.addGroup({
        enrollmentGroupId: GROUP_ID,
        attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: randomBytes(32).toString('base64') },
      });
      // The device keeps its DPS assignment: the hub must know it without a new registration.
      emu.addDevice(REGISTRATION_ID, { type: 'sas', primaryKey: deviceKey, secondaryKey: randomBytes(32).toString('base64') });
      emu.on('telemetry', (message) => {
        if (message.deviceId === REGISTRATION_ID) received.push(message);
      });
      return emu;
    };

    beforeAll(async () => {
      requireMcconfig();
      emulator = await startEmulator();
      const ports = { hubPort: emulator.hubPort, dpsPort: emulator.dps!.port };
      work = mkdtempSync(join(tmpdir(), 'moddable-journal-'));
      for (const dir of ['app', 'prefs', 'build', 'tmp']) mkdirSync(join(work, dir));
      writeFileSync(join(work, 'app/manifest.json'), JSON.stringify({ include: [join(REPO, 'manifest.json'), join(REPO, 'hosts/moddable/manifest_journal.json')], config: { file: { root: `${join(work, 'prefs')}/` } } }, null, 2));
      const settings = [
        ...emulatorSettings({ idScope: emulator.dps!.idScope, registrationId: REGISTRATION_ID, groupKey, dpsPort: ports.dpsPort, hubPort: ports.hubPort, caDer: emulator.caDer }),
        'telemetryIntervalMs=1000',
        'telemetryJournalBytes=16384',
      ];
      build = await buildForSimulator(work, ['-t', 'build', '-o', join(work, 'build'), join(work, 'app/manifest.json'), ...settings]);
      if (!build.library) return;

      // First boot: online, two readings acknowledged; then the emulator stops (the hub is gone, connections are
      // refused) and readings keep coming.
      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const first = simulator;
      await waitUntil(() => received.length >= 2, RUN_TIMEOUT_MS, () => !first.running);
      await emulator.stop();
      emulator = undefined;
      const atStop = sentIn(first.output);
      await sleep(6000);
      takenWhileDown = sentIn(first.output) - atStop;
      // Power off: mcsim is stopped with nothing flushed or closed first.
      await first.stop();
      outputs.push(first.output);
      taken = sentIn(first.output);

      // Second boot, the hub still gone: it opens the journal in the preference file. (The telemetry loop starts
      // with a boot's first connection, so this boot takes no readings until the hub is back.)
      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const second = simulator;
      await sleep(6000);

      // An emulator is back on the same ports, with the same CA.
      emulator = await startEmulator(ports);
      const seqs = (): Set<number> => new Set(received.map((m) => Number((m.systemProperties['$.mid'] ?? '').split('-')[1])));
      await waitUntil(() => {
        const have = seqs();
        for (let n = 0; n < taken; n++) if (!have.has(n)) return false;
        return true;
      }, RUN_TIMEOUT_MS, () => !second.running);
      const pgid = second.pgid;
      await second.stop();
      leftover = pgid !== undefined && groupAlive(pgid);
      outputs.push(second.output);
      console.log(`mcsim journal run: ${taken} readings taken by the first boot, ${takenWhileDown} of them with the emulator stopped; ${received.length} messages received\n${outputs.map((o) => o.split('\n').filter((l) => /journal|telemetry #|hub: |Segmentation/.test(l)).slice(-20).join('\n')).join('\n---\n')}`);
    }, BUILD_TIMEOUT_MS + 3 * RUN_TIMEOUT_MS);

    afterAll(async () => {
      await simulator?.stop();
      await emulator?.stop();
      if (work && !process.env.MODDABLE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    });

    test('the first boot journaled readings while the emulator was stopped; the second found them', () => {
      expect(build.code).toBe(0);
      expect(takenWhileDown).toBeGreaterThanOrEqual(3);
      const kept = /main: telemetry journal of 16384 bytes in Preference domain aztj: ([0-9]+) unacknowledged reading\(s\) kept from before/.exec(outputs[1] ?? '');
      expect(Number(kept?.[1])).toBeGreaterThanOrEqual(takenWhileDown);
    });

    test('once the emulator was back, every reading of the first boot reached it, each $.mid from one journal', () => {
      const mids = received.map((m) => m.systemProperties['$.mid'] ?? '');
      expect(new Set(mids.map((mid) => mid.split('-')[0])).size).toBe(1);
      const seqs = new Set(mids.map((mid) => Number(mid.split('-')[1])));
      const missing: number[] = [];
      for (let n = 0; n < taken; n++) if (!seqs.has(n)) missing.push(n);
      expect(missing).toEqual([]);
    });

    test('no error logged; mcsim and Xvfb are gone', () => {
      expect(outputs.join('\n').split('\n').filter((line) => line.startsWith('[error]') || line.includes('Segmentation'))).toEqual([]);
      expect(leftover).toBe(false);
      expect(readdirSync(join(work, 'tmp'))).toEqual([]);
    });
  });
}
