// The flash journal for telemetry (src/storage/telemetry-journal.ts): order, acknowledgement, budget, policies,
// power cuts at every write and damaged segments. The seeded runs live in journal-battery.ts, shared with XS.

import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { budgetRun, corruptionRun, CutStore, powerCutSweep } from './journal-battery';

function journal(store: CutStore, extra: Partial<ConstructorParameters<typeof TelemetryJournal>[0]> = {}): TelemetryJournal {
  return new TelemetryJournal({ store, budgetBytes: 4096, segmentBytes: 512, newId: () => 0xabc, ...extra });
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('messages are kept in order with a stable $.mid until acknowledged', () => {
  test('appends, reads oldest first, survives a restart, forgets what was acknowledged', () => {
    const store = new CutStore();
    const j = journal(store);
    expect(j.nextMessageId()).toBe('00000abc-0');
    for (let n = 0; n < 5; n++) expect(j.append(1, `%24.mid=${j.nextMessageId()}`, bytes(`m${n}`))).toEqual({ ok: true, value: n });
    expect(j.journaledBelow).toBe(0);
    expect(j.flush()).toEqual({ ok: true, value: undefined });
    expect(j.journaledBelow).toBe(5);
    j.acknowledge(0);
    j.acknowledge(2); // out of order: kept as a mark
    expect(j.read(0, 10).map((e) => e.seq)).toEqual([1, 3, 4]);
    j.flush();
    const again = journal(store);
    const kept = again.read(0, 10);
    expect(kept.map((e) => [e.seq, e.bag, new TextDecoder().decode(e.payload)])).toEqual([
      [1, '%24.mid=00000abc-1', 'm1'],
      [3, '%24.mid=00000abc-3', 'm3'],
      [4, '%24.mid=00000abc-4', 'm4'],
    ]);
    expect(again.nextMessageId()).toBe('00000abc-5');
    expect(again.stats()).toMatchObject({ depth: 3, dropped: 0, budgetBytes: 4096 });
  });

  test('an acknowledgement costs no write of its own: the next flush carries it', () => {
    const store = new CutStore();
    const j = journal(store);
    for (let n = 0; n < 3; n++) j.append(1, 'b', bytes('x'));
    j.flush();
    const writes = store.writes;
    j.acknowledge(0);
    j.acknowledge(1);
    expect(store.writes).toBe(writes);
    j.flush();
    expect(store.writes).toBe(writes + 1);
    expect(journal(store).read(0, 9).map((e) => e.seq)).toEqual([2]);
  });

  test('several messages go out in one write', () => {
    const store = new CutStore();
    const j = journal(store);
    for (let n = 0; n < 3; n++) j.append(1, 'b', bytes('abc'));
    j.flush();
    expect(store.writes).toBe(1);
  });

  test('oldest age comes from the unix time stamped on each message', () => {
    let now = 1_800_000_000;
    const j = journal(new CutStore(), { unixSeconds: () => now });
    j.append(1, 'b', bytes('x'));
    now += 42;
    expect(j.stats().oldestAgeSeconds).toBe(42);
  });
});

describe('refusals name the problem', () => {
  test('a message bigger than a segment is too-large', () => {
    const j = journal(new CutStore());
    const r = j.append(1, 'b', new Uint8Array(500));
    expect(r).toEqual({ ok: false, error: { code: 'too-large', message: 'telemetry of 514 bytes is over the 405-byte journal segment' } });
  });

  test('a store that refuses every write: at most 2 segments wait in RAM, then write-failing', () => {
    const store = new CutStore();
    store.cutAt = 1;
    const j = journal(store);
    let refused;
    for (let n = 0; n < 20 && refused === undefined; n++) {
      const r = j.append(1, 'b', new Uint8Array(100));
      if (!r.ok) refused = r.error;
      expect(j.flush().ok).toBe(false);
    }
    expect(refused).toEqual({ code: 'write-failing', message: 'journal: the store is not taking writes; 2 segments wait in RAM' });
  });

  test('a budget that cannot hold two segments is a RangeError', () => {
    expect(() => journal(new CutStore(), { budgetBytes: 600 })).toThrow(RangeError);
  });
});

describe('power cut at every write of append, flush, acknowledge and compaction', () => {
  test.each(['drop-oldest', 'refuse-newest'] as const)('%s: the journal is intact up to the last completed write; nothing acknowledged comes back', (policy) => {
    const { lines, problems } = powerCutSweep(policy, 20261202, 400);
    expect(problems).toEqual([]);
    expect(lines[0]).toMatch(new RegExp(`^${policy}: (\\d+) writes, \\1 cuts \\(acknowledge \\d+, append \\d+, compaction \\d+`));
  });
});

describe('the budget holds', () => {
  test('drop-oldest keeps the newest, counts what it dropped, never passes its bytes', () => {
    expect(budgetRun('drop-oldest')).toEqual([
      'drop-oldest: accepted 200 of 200, kept 23 (seq 177..199), dropped 177, store bytes max 3536 of 4096',
      'drop-oldest: after restart depth 23, dropped 177, next id 00005eed-200',
    ]);
  });

  test('refuse-newest keeps the oldest and refuses the rest with journal-full', () => {
    expect(budgetRun('refuse-newest')).toEqual([
      'refuse-newest: accepted 24 of 200, kept 24 (seq 0..23), dropped 0, store bytes max 3502 of 4096',
      'refuse-newest: first refusal at message 24: journal-full journal full: 4096 bytes hold unacknowledged telemetry',
      'refuse-newest: after restart depth 24, dropped 0, next id 00005eed-24',
    ]);
  });

  test('writes are spread over every slot', () => {
    const store = new CutStore();
    const j = journal(store);
    for (let n = 0; n < 400; n++) {
      const r = j.append(1, 'b', new Uint8Array(60));
      if (r.ok) j.acknowledge(r.value);
      if (n % 3 === 0) j.flush();
    }
    const writes = j.slotWrites();
    expect(writes).toHaveLength(8);
    expect(Math.max(...writes) - Math.min(...writes)).toBeLessThanOrEqual(2);
  });
});

describe('a damaged segment is skipped with a warning and the rest kept', () => {
  test('flipped byte, truncated record, zeroed header, empty value', () => {
    expect(corruptionRun()).toEqual([
      'flipped byte: kept 11 [1,2,3,4,5,9,10,11,12,13,14]; warn journal: segment tj2 skipped: record checksum does not match its content',
      'flipped byte: after 25 more, depth 22, dropped 14',
      'truncated record: kept 11 [1,2,3,4,5,9,10,11,12,13,14]; warn journal: segment tj2 skipped: record body should be 422 bytes but only 415 are stored',
      'truncated record: after 25 more, depth 22, dropped 14',
      'zeroed header: kept 11 [1,2,3,4,5,9,10,11,12,13,14]; warn journal: segment tj2 skipped: record does not start with the record magic',
      'zeroed header: after 25 more, depth 22, dropped 14',
      'empty value: kept 11 [1,2,3,4,5,9,10,11,12,13,14]; warn journal: segment tj2 skipped: record is 0 bytes, shorter than its 14-byte frame',
      'empty value: after 25 more, depth 22, dropped 14',
    ]);
  });
});
