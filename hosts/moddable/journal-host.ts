// The telemetry journal on the Moddable host (through main-journal.ts and manifest_journal.json), opt-in: only when the manifest's `config` names
// `telemetryJournalBytes` (and it is not 0), and only where the store can carry it. On the simulator that is a
// Preference domain of its own ("aztj", the chunked layout of chunked-store.ts). On ESP32 the Preference/NVS space
// cannot (docs/storage.md: the default 24 KB NVS partition holds about 4 journal segments with nothing else); the
// raw-partition store (flash-slot-store.ts) is not wired in yet, so ESP32 builds keep telemetry in RAM.
import type { HostPorts } from '../../src/ports';
import type { Journaling } from '../../src/hub/hub-types';
import { journaling } from '../../src/hub/journal-sender';
import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { createPreferenceStore } from './preference-store';

export const JOURNAL_DOMAIN = 'aztj';

export function createModdableJournal(host: HostPorts, hostKind: string, config: Readonly<Record<string, unknown>>, budgetBytes: number): Journaling | undefined {
  const asked = config['telemetryJournalBytes'];
  if (asked === undefined || asked === '' || budgetBytes === 0) return undefined;
  if (hostKind === 'moddable-esp32') {
    host.logger.log('warn', 'main: telemetryJournalBytes ignored: Preference/NVS cannot hold the journal on ESP32 (docs/storage.md); telemetry stays in RAM');
    return undefined;
  }
  const journal = new TelemetryJournal({
    store: createPreferenceStore({ domain: JOURNAL_DOMAIN }),
    budgetBytes,
    newId: () => {
      const b = host.crypto.randomBytes(4);
      return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    },
    unixSeconds: () => {
      const ms = host.clock.unixMs();
      return ms === undefined ? undefined : ms / 1000;
    },
    log: (level, message) => host.logger.log(level, message),
  });
  const s = journal.stats();
  host.logger.log('info', `main: telemetry journal of ${budgetBytes} bytes in Preference domain ${JOURNAL_DOMAIN}: ${s.depth} unacknowledged reading(s) kept from before`);
  return journaling(journal);
}
