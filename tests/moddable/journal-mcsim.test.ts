// The telemetry journal in the Moddable simulator: the firmware (manifest.json with the optional
// hosts/moddable/manifest_journal.json) built with telemetryJournalBytes set, run in mcsim against the emulator. The hub stops acknowledging (PUBACKs withheld), the simulator is stopped
// as a power cut would, and the next boot sends every reading that was not acknowledged, with the $.mid it was
// journaled with. (A hub that goes away instead is not tested here: after the hub closes its connection, mcsim
// ends with "Segmentation fault" within seconds, with or without the journal; see RELIABILITY.md, findings.)
// Needs the Moddable SDK: runs only when $MODDABLE is set, otherwise skips with a message.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import type { TelemetryMessage } from '../../emulator/src/hub/telemetry';
import { BUILD_TIMEOUT_MS, buildForSimulator, emulatorSettings, groupAlive, MODDABLE, REPO, requireMcconfig, Simulator, sleep, waitUntil, type Built } from './mcsim-harness';

const REGISTRATION_ID = 'mcsim-journal-device';
const GROUP_ID = 'mcsim-journal-fleet';
const RUN_TIMEOUT_MS = 90_000;

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable to build the firmware with mcconfig and run it in mcsim against the emulator)');
  test.skip('telemetry journal in mcsim across a simulator restart (needs $MODDABLE)', () => undefined);
} else {
  describe('mcsim sends after a restart what the hub had not acknowledged, with the same $.mid', () => {
    const groupKey = randomBytes(32).toString('base64');
    const deviceKey = createHmac('sha256', Buffer.from(groupKey, 'base64')).update(REGISTRATION_ID).digest('base64');
    const received: TelemetryMessage[] = [];
    let emulator: Emulator | undefined;
    let simulator: Simulator | undefined;
    let work: string;
    let build: Built;
    let outputs: string[] = [];
    let unacknowledged: string[] = [];
    let resent: string[] = [];
    let leftover = false;

    const startEmulator = async (): Promise<Emulator> => {
      const emu = await Emulator.start({ persist: false, hubHostName: 'localhost' });
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

      // First boot: online, two readings acknowledged; then the hub takes readings without acknowledging them.
      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const first = simulator;
      await waitUntil(() => received.length >= 2, RUN_TIMEOUT_MS, () => !first.running);
      emulator.faults.withholdPubacks(REGISTRATION_ID, { durationMs: 600_000 });
      const before = received.length;
      await sleep(5000);
      unacknowledged = received.slice(before).map((m) => m.systemProperties['$.mid'] ?? '');
      // Power off: mcsim is stopped with nothing flushed or closed first.
      await first.stop();
      outputs.push(first.output);
      emulator.faults.clear(REGISTRATION_ID);

      // Second boot: it opens the journal in the preference file and sends what was never acknowledged.
      simulator = new Simulator(build.library, work, join(work, 'tmp'));
      const second = simulator;
      const arrived = (): Set<string> => new Set(received.slice(before + unacknowledged.length).map((m) => m.systemProperties['$.mid'] ?? ''));
      await waitUntil(() => unacknowledged.every((mid) => arrived().has(mid)), RUN_TIMEOUT_MS, () => !second.running);
      resent = [...arrived()];
      const pgid = second.pgid;
      await second.stop();
      leftover = pgid !== undefined && groupAlive(pgid);
      outputs.push(second.output);
      console.log(`mcsim journal run: ${unacknowledged.length} readings left unacknowledged by the first boot (${unacknowledged.join(', ')}); the second boot sent ${resent.length} distinct ids\n${outputs.map((o) => o.split('\n').filter((l) => /journal|telemetry #|hub: |Segmentation/.test(l)).slice(-20).join('\n')).join('\n---\n')}`);
    }, BUILD_TIMEOUT_MS + 3 * RUN_TIMEOUT_MS);

    afterAll(async () => {
      await simulator?.stop();
      await emulator?.stop();
      if (work && !process.env.MODDABLE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    });

    test('the build has the journal and the second boot found the unacknowledged readings of the first', () => {
      expect(build.code).toBe(0);
      expect(unacknowledged.length).toBeGreaterThanOrEqual(3);
      const kept = /main: telemetry journal of 16384 bytes in Preference domain aztj: ([0-9]+) unacknowledged reading\(s\) kept from before/.exec(outputs[1] ?? '');
      expect(Number(kept?.[1])).toBeGreaterThanOrEqual(unacknowledged.length);
    });

    test('each of them reached the hub again from the second boot with the same $.mid, from one journal', () => {
      for (const mid of unacknowledged) expect(resent).toContain(mid);
      const journalIds = new Set(received.map((m) => (m.systemProperties['$.mid'] ?? '').split('-')[0]));
      expect(journalIds.size).toBe(1);
    });

    test('no error logged; mcsim and Xvfb are gone', () => {
      expect(outputs.join('\n').split('\n').filter((line) => line.startsWith('[error]') || line.includes('Segmentation'))).toEqual([]);
      expect(leftover).toBe(false);
      expect(readdirSync(join(work, 'tmp'))).toEqual([]);
    });
  });
}
