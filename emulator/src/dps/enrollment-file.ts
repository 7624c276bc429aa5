// The DPS enrollments in the emulator's state folder, so enrollments added from the CLI survive a restart like the
// hub's registry does. JSON for people to read; written to a temporary file and renamed so a crash leaves the old
// or the new file. An unreadable file is reported and skipped, never fatal: the emulator starts with what it can.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorLog } from '../log';
import type { EnrollmentStore } from './enrollment-store';
import type { GroupEnrollmentInput, IndividualEnrollmentInput } from './enrollment-types';

export const ENROLLMENTS_FILE = 'enrollments.json';

interface EnrollmentsFile {
  individual: IndividualEnrollmentInput[];
  groups: GroupEnrollmentInput[];
}

export function saveEnrollments(store: EnrollmentStore, dir: string): void {
  const target = join(dir, ENROLLMENTS_FILE);
  writeFileSync(`${target}.tmp`, JSON.stringify(store.list(), null, 2) + '\n', { mode: 0o600 });
  renameSync(`${target}.tmp`, target);
}

/** Adds the saved enrollments to `store`; returns how many were loaded. */
export function loadEnrollments(store: EnrollmentStore, dir: string, log: EmulatorLog): number {
  const path = join(dir, ENROLLMENTS_FILE);
  if (!existsSync(path)) return 0;
  let saved: EnrollmentsFile;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as EnrollmentsFile;
  } catch (error) {
    log('warn', `DPS: ${path} is not readable JSON (${(error as Error).message}); starting without saved enrollments`);
    return 0;
  }
  let loaded = 0;
  const each = <T>(list: T[] | undefined, add: (entry: T) => unknown, what: string): void => {
    for (const entry of Array.isArray(list) ? list : []) {
      try {
        add(entry);
        loaded++;
      } catch (error) {
        log('warn', `DPS: skipping a saved ${what} enrollment: ${(error as Error).message}`);
      }
    }
  };
  each(saved.individual, (e) => store.addIndividual(e, { replace: true }), 'individual');
  each(saved.groups, (e) => store.addGroup(e, { replace: true }), 'group');
  return loaded;
}
