// The whole firmware (manifest.json: hosts/moddable/main-moddable + src/) built with the real Moddable SDK for
// the Linux simulator, run in mcsim under a virtual X display against the emulator: it must provision through
// DPS with a group enrollment key and send telemetry to the hub it was assigned. Needs the Moddable SDK: runs
// only when $MODDABLE is set, otherwise skips with a message. Everything it makes lives in a temp folder, and
// mcsim, xvfb-run and Xvfb run in one process group that is taken down at the end.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import type { DpsAssignedEvent } from '../../emulator/src/dps/dps-server';
import type { TelemetryMessage } from '../../emulator/src/hub/telemetry';
import { BUILD_TIMEOUT_MS, buildForSimulator, emulatorSettings, groupAlive, listFiles, MODDABLE, REPO, requireMcconfig, Simulator, waitUntil, type Built } from './mcsim-harness';

const REGISTRATION_ID = 'mcsim-e2e-device';
const GROUP_ID = 'mcsim-e2e-fleet';
const TELEMETRY_INTERVAL_MS = 1000;
/** Telemetry messages to see before stopping the simulator. */
const TELEMETRY_WANTED = 3;
const RUN_TIMEOUT_MS = 120_000;

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable, a Moddable SDK checkout with its tools built, to build the firmware with mcconfig and run it in mcsim against the emulator)');
  test.skip('firmware app in mcsim against the emulator (needs $MODDABLE)', () => undefined);
} else {
  describe('the firmware app (manifest.json) on the Moddable simulator against the emulator', () => {
    let work: string;
    let emulator: Emulator | undefined;
    let simulator: Simulator | undefined;
    let build: Built;
    let groupKey: string;
    let deviceKey: string;
    let dpsPort: number;
    const assigned: DpsAssignedEvent[] = [];
    const telemetry: TelemetryMessage[] = [];
    let lines: string[] = [];
    let leftover = false;
    let xvfbLeftovers: string[] = [];

    beforeAll(async () => {
      requireMcconfig();
      if (!existsSync(join(REPO, 'manifest.json'))) throw new Error(`${join(REPO, 'manifest.json')} is missing: the firmware's manifest`);

      // The hub is named plain `localhost` (what DPS assigns and the device signs), as with the emulator CLI on
      // 8883; the device is told where it really listens with hubEndpoint, since the test's ports are ephemeral.
      emulator = await Emulator.start({ persist: false, hubHostName: 'localhost' });
      const dps = emulator.dps;
      if (!dps) throw new Error('the emulator started without DPS');
      dpsPort = dps.port;
      groupKey = randomBytes(32).toString('base64');
      deviceKey = createHmac('sha256', Buffer.from(groupKey, 'base64')).update(REGISTRATION_ID).digest('base64');
      dps.enrollments.addGroup({
        enrollmentGroupId: GROUP_ID,
        attestation: { type: 'symmetricKey', primaryKey: groupKey, secondaryKey: randomBytes(32).toString('base64') },
      });
      dps.on('assigned', (event) => assigned.push(event));
      emulator.on('telemetry', (message) => telemetry.push(message));

      work = mkdtempSync(join(tmpdir(), 'moddable-app-e2e-'));
      mkdirSync(join(work, 'app'));
      mkdirSync(join(work, 'prefs'));
      mkdirSync(join(work, 'build'));
      mkdirSync(join(work, 'tmp'));
      // The firmware's own manifest, plus a preference folder of this run's own: a stored DPS assignment from an
      // earlier run would skip DPS. A nested object cannot be given as name=value on mcconfig's command line.
      const manifest = {
        include: [join(REPO, 'manifest.json')],
        config: { file: { root: `${join(work, 'prefs')}/` } },
      };
      writeFileSync(join(work, 'app/manifest.json'), JSON.stringify(manifest, null, 2));

      const settings = [
        ...emulatorSettings({ idScope: dps.idScope, registrationId: REGISTRATION_ID, groupKey, dpsPort, hubPort: emulator.hubPort, caDer: emulator.caDer }),
        `telemetryIntervalMs=${TELEMETRY_INTERVAL_MS}`,
      ];
      build = await buildForSimulator(work, ['-t', 'build', '-o', join(work, 'build'), join(work, 'app/manifest.json'), ...settings]);
      const library = build.library;
      if (!library) return;
      const xsbs = listFiles(join(work, 'build/tmp'), '.xsb').filter((path) => /\/modules\/(src|hosts)\//.test(path));
      const ours = xsbs.reduce((sum, path) => sum + statSync(path).size, 0);

      const started = Date.now();
      simulator = new Simulator(library, work, join(work, 'tmp'));
      const sim = simulator;
      await waitUntil(
        () => assigned.length > 0 && telemetry.filter((m) => m.deviceId === REGISTRATION_ID).length >= TELEMETRY_WANTED,
        RUN_TIMEOUT_MS,
        () => !sim.running,
      );
      const ranMs = Date.now() - started;
      const pgid = sim.pgid;
      await sim.stop();
      leftover = pgid !== undefined && groupAlive(pgid);
      xvfbLeftovers = readdirSync(join(work, 'tmp'));
      lines = sim.output.split('\n').filter((line) => line.startsWith('['));
      console.log(
        `mcconfig ${build.ms} ms (${xsbs.length} .xsb of src/ and hosts/: ${ours} bytes); mcsim ran ${ranMs} ms; ` +
          `the app printed:\n${lines.join('\n')}\n` +
          `bytecode: ${xsbs.map((path) => `${relative(join(work, 'build/tmp'), path).replace(/^.*\/modules\//, '')} ${statSync(path).size}`).join(', ')}`,
      );
    }, BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS + 30_000);

    afterAll(async () => {
      await simulator?.stop();
      await emulator?.stop();
      if (work && !process.env.MODDABLE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    });

    describe('build', () => {
      test('mcconfig -m -p lin builds manifest.json and TypeScript passes', () => {
        expect(build.output).not.toContain('typescript compile failure');
        expect(build.output).not.toMatch(/error TS[0-9]+/);
        expect(build.code).toBe(0);
      });
    });

    describe('provisioning through DPS', () => {
      test('DPS assigned the device from the group enrollment to the emulated hub', () => {
        expect(assigned).toHaveLength(1);
        expect(assigned[0]).toMatchObject({
          registrationId: REGISTRATION_ID,
          deviceId: REGISTRATION_ID,
          assignedHub: emulator!.hubHostName,
          enrollment: { kind: 'group', enrollmentGroupId: GROUP_ID },
        });
      });

      test('the assignment is kept in the preference file for the next boot', () => {
        const saved = JSON.parse(readFileSync(join(work, 'prefs/modpreferences.json'), 'utf8')) as Record<string, Record<string, unknown>>;
        expect(Object.keys(saved.azfw ?? {}).length).toBeGreaterThan(0);
      });
    });

    describe('telemetry', () => {
      test(`at least ${TELEMETRY_WANTED} JSON messages reached the hub from the device`, () => {
        const mine = telemetry.filter((m) => m.deviceId === REGISTRATION_ID);
        expect(mine.length).toBeGreaterThanOrEqual(TELEMETRY_WANTED);
        for (const message of mine) {
          expect(message.systemProperties).toMatchObject({ '$.ct': 'application/json', '$.ce': 'utf-8' });
          const body = JSON.parse(Buffer.from(message.body).toString('utf8')) as Record<string, unknown>;
          expect(typeof body.temperature).toBe('number');
          expect(typeof body.humidity).toBe('number');
        }
      });
    });

    describe('the mcsim log', () => {
      test('says each step in plain words, in order', () => {
        const steps = [
          'main: starting on moddable-lin',
          'main: wall clock already set',
          `DPS at localhost:${dpsPort}`,
          `dps: assigned to hub localhost as device ${REGISTRATION_ID}`,
          `hub: connecting to localhost:${emulator!.hubPort} as ${REGISTRATION_ID}`,
          `firmware: connected to the hub as device ${REGISTRATION_ID}`,
          'app: telemetry #1 sent',
          'app: telemetry #2 sent',
        ];
        let from = 0;
        for (const step of steps) {
          const at = lines.findIndex((line, i) => i >= from && line.includes(step));
          expect({ step, found: at >= 0 }).toEqual({ step, found: true });
          from = at + 1;
        }
      });

      test('reports no error and never shows the group key or the derived device key', () => {
        expect(lines.filter((line) => line.startsWith('[error]'))).toEqual([]);
        expect(simulator!.output).not.toContain(groupKey);
        expect(simulator!.output).not.toContain(deviceKey);
      });
    });

    describe('clean-up', () => {
      test('mcsim, xvfb-run and Xvfb are all gone, and xvfb-run cleaned up after itself', () => {
        expect(leftover).toBe(false);
        expect(simulator!.running).toBe(false);
        expect(xvfbLeftovers).toEqual([]);
      });
    });
  });
}
