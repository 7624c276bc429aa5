// A small journal soak in every test run: 400 readings through the flash journal from a device process that is
// killed with SIGKILL and started again, among disconnects, refused connections and hub outages. The long run is
// `npx tsx soak/index.ts --only journal --jmessages 10000 --jfaults 200 --outagems 120000` (RELIABILITY.md).
import { describeJournalSoak, journalSoakProblems, runJournalSoak, type JournalSoakStats } from '../../soak/journal-soak';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('JSOAK_SEED', 1515);

describe('400 readings through 24 faults, device processes killed with SIGKILL', () => {
  let stats: JournalSoakStats;

  beforeAll(async () => {
    stats = await runJournalSoak({ seed: SEED, messages: 400, faults: 24, outageMs: 1500, deadlineMs: 100_000 });
    for (const line of describeJournalSoak(stats)) report(`${line} (replay with JSOAK_SEED=${SEED})`);
  }, 120_000);

  test('kills, disconnects, refusals and outages were injected', () => {
    expect(stats.faultsByKind['kill-9']).toBeGreaterThan(0);
    expect(stats.faultsByKind.outage).toBe(2);
    expect(stats.boots).toBe(stats.faultsByKind['kill-9'] + 1);
  });

  test('every reading reached the hub at least once, in order per boot, duplicates with the same $.mid', () => {
    expect(journalSoakProblems(stats)).toEqual([]);
    expect(stats.missing).toEqual([]);
    expect(stats.journaledMissing).toEqual([]);
    expect(stats.receivedTotal).toBe(400 + stats.duplicates);
    expect(stats.midMismatches).toBe(0);
    expect(stats.orderViolations).toEqual([]);
  });
});
