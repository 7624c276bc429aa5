// The firmware with the telemetry journal: main-moddable.ts with journal-host.ts wired in (a HostWiring).
// Optional, so a board that does not keep telemetry on flash carries none of the journal's code: a project opts in
// by including hosts/moddable/manifest_journal.json after manifest.json (it makes this module the main one) and
// setting `telemetryJournalBytes` in `config`.
import type { Firmware } from '../../src/main';
import { createModdableJournal } from './journal-host';
import { startOnModdable } from './main-moddable';
import { readModdableSettings } from './moddable-settings';

export default function main(): Firmware | undefined {
  return startOnModdable((host, config) => {
    const settings = readModdableSettings(config);
    const journal = createModdableJournal(host, settings.hostKind, config, settings.profile.telemetryJournalBytes);
    return { platform: journal === undefined ? {} : { journal }, ownClock: false };
  });
}
