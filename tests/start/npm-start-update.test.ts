// `npm start -- --demo-once --demo-update`: after the usual demo steps the emulator deploys a signed image and the
// device updates itself to 1.2.0; the run ends with exit 0 and leaves no temporary folder of its device behind.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

describe('npm start -- --demo-update', () => {
  test('the demo ends with the device updated over the air to 1.2.0', () => {
    const state = mkdtempSync(join(tmpdir(), 'start-update-'));
    const deviceFolders = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('demo-device-'));
    const before = new Set(deviceFolders());
    try {
      const run = spawnSync(TSX, ['scripts/start.ts', '--state-dir', state, '--demo-once', '--demo-update'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      const lines = `${run.stdout}${run.stderr}`.split('\n');
      expect(run.status).toBe(0);
      expect(lines).toContain('[device] [info] fota: 1.2.0 installed; rebooting');
      expect(lines).toContain('[emulator] fota: the device reports current (current 1.2.0)');
      expect(lines).toContain('[demo] all steps observed: provisioning, connection, telemetry, twin change acknowledged, method answered, C2D received, firmware updated to 1.2.0');
      // The run's device store and update slot lived in a temporary folder, removed at the end.
      expect(deviceFolders().filter((name) => !before.has(name))).toEqual([]);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
    expect(existsSync(state)).toBe(false);
  });
});
