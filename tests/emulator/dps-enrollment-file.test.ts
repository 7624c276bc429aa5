import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { ENROLLMENTS_FILE } from '../../emulator/src/dps/enrollment-file';
import type { EmulatorLogLevel } from '../../emulator/src/log';

const KEY = Buffer.alloc(32, 7).toString('base64');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'emu-enrollments-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('DPS enrollments in the state folder', () => {
  test('enrollments added while running are there after a restart, removals too', async () => {
    const first = await Emulator.start({ stateDir: dir });
    first.dps!.enrollments.addGroup({ enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey', primaryKey: KEY, secondaryKey: KEY }, deviceId: 'fleet-{registrationId}' });
    first.dps!.enrollments.addIndividual({ registrationId: 'one', attestation: { type: 'symmetricKey', primaryKey: KEY, secondaryKey: KEY } });
    first.dps!.enrollments.removeIndividual('one');
    await first.stop();
    expect(statSync(join(dir, ENROLLMENTS_FILE)).mode & 0o777).toBe(0o600);

    const second = await Emulator.start({ stateDir: dir });
    try {
      const { individual, groups } = second.dps!.enrollments.list();
      expect(individual).toEqual([]);
      expect(groups).toEqual([expect.objectContaining({ enrollmentGroupId: 'fleet', deviceId: 'fleet-{registrationId}', attestation: { type: 'symmetricKey', primaryKey: KEY, secondaryKey: KEY } })]);
    } finally {
      await second.stop();
    }
  });

  test('an unreadable file is reported and the emulator starts without it', async () => {
    writeFileSync(join(dir, ENROLLMENTS_FILE), '{ not json');
    const lines: string[] = [];
    const log = (level: EmulatorLogLevel, message: string): void => void lines.push(`${level} ${message}`);
    const emulator = await Emulator.start({ stateDir: dir, log });
    try {
      expect(emulator.dps!.enrollments.list()).toEqual({ individual: [], groups: [] });
      expect(lines).toContainEqual(expect.stringMatching(/^warn DPS: .*enrollments\.json is not readable JSON/));
      // The next change writes a good file again.
      emulator.dps!.enrollments.addIndividual({ registrationId: 'two', attestation: { type: 'symmetricKey', primaryKey: KEY, secondaryKey: KEY } });
      expect(JSON.parse(readFileSync(join(dir, ENROLLMENTS_FILE), 'utf8')).individual).toEqual([expect.objectContaining({ registrationId: 'two' })]);
    } finally {
      await emulator.stop();
    }
  });

  test('in-memory emulators (tests) write nothing', async () => {
    const emulator = await Emulator.start({ persist: false, stateDir: dir });
    emulator.dps!.enrollments.addIndividual({ registrationId: 'three', attestation: { type: 'symmetricKey', primaryKey: KEY, secondaryKey: KEY } });
    await emulator.stop();
    expect(() => statSync(join(dir, ENROLLMENTS_FILE))).toThrow();
  });
});
