// The telemetry journal's power-cut, budget and corruption checks as one seeded run reported in text lines, so the
// same code runs on Node (journal.test.ts) and inside the real XS engine (journal-xs.test.ts) and the transcripts
// are compared. Pure: no Node modules. A line starting "FAIL" is a broken property.

import type { KeyValueStore } from '../../src/ports';
import { TelemetryJournal, type JournalOptions, type JournalPolicy } from '../../src/storage/telemetry-journal';
import { decodeSegment } from '../../src/storage/journal-segment';

/** A store that "loses power" at its Nth write (set or delete): that write and every later one throw. */
export class CutStore implements KeyValueStore {
  readonly entries = new Map<string, Uint8Array>();
  writes = 0;
  cutAt = Number.POSITIVE_INFINITY;
  /** What the caller says the next writes carry; a write over another segment's slot is a compaction. */
  label = '';
  readonly labels: string[] = [];

  get(key: string): Uint8Array | undefined {
    return this.entries.get(key)?.slice();
  }
  set(key: string, value: Uint8Array): void {
    const before = decodeSegment(this.entries.get(key));
    const after = decodeSegment(value);
    this.labels.push(before.ok && after.ok && before.value.segNo !== after.value.segNo ? 'compaction' : this.label);
    this.write();
    this.entries.set(key, value.slice());
  }
  delete(key: string): void {
    this.labels.push('compaction');
    this.write();
    this.entries.delete(key);
  }
  keys(): string[] {
    return [...this.entries.keys()];
  }
  /** The machine comes back: writes work again. */
  powerOn(): void {
    this.cutAt = Number.POSITIVE_INFINITY;
  }
  private write(): void {
    this.writes++;
    if (this.writes >= this.cutAt) throw new Error(`power cut at write ${this.writes}`);
  }
}

/** Seeded 32-bit generator (mulberry32): the same on every engine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function payloadFor(n: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (n * 31 + i * 7) & 0xff;
  if (size >= 4) {
    p[0] = n >>> 24;
    p[1] = (n >>> 16) & 0xff;
    p[2] = (n >>> 8) & 0xff;
    p[3] = n & 0xff;
  }
  return p;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function journalOn(store: KeyValueStore, policy: JournalPolicy, log?: string[]): TelemetryJournal {
  const options: JournalOptions = { store, budgetBytes: 4096, segmentBytes: 512, policy, newId: () => 0x5eed, unixSeconds: () => 1_800_000_000 };
  if (log !== undefined) options.log = (level, message) => void log.push(`${level} ${message}`);
  return new TelemetryJournal(options);
}

/** What the run knows at each moment: what was appended (by seq), acknowledged and flushed. */
interface Model {
  payloads: Map<number, Uint8Array>;
  /** Acknowledged in RAM. */
  acked: Set<number>;
  /** Acknowledged and saved by a completed flush. */
  ackedSaved: Set<number>;
  /** Pending (unacknowledged, not dropped) at the last completed flush. */
  savedPending: number[];
  droppedBefore: number;
}

/**
 * A seeded workload: appends of 10-140 bytes, acknowledgements of the oldest pending (sometimes out of order),
 * flushes every few steps. With `cutAt`, the store dies at that write; returns the model at the moment of death.
 */
function runWorkload(store: CutStore, policy: JournalPolicy, seed: number, steps: number, cutAt: number): { model: Model; died: boolean; kinds: string[] } {
  const random = rng(seed);
  const journal = journalOn(store, policy);
  store.cutAt = cutAt;
  const model: Model = { payloads: new Map(), acked: new Set(), ackedSaved: new Set(), savedPending: [], droppedBefore: 0 };
  const kinds: string[] = [];
  let appendedSinceFlush = 0;
  let ackedSinceFlush = 0;
  for (let step = 0; step < steps; step++) {
    const r = random();
    if (r < 0.55) {
      const n = model.payloads.size;
      const payload = payloadFor(n, 10 + Math.floor(random() * 130));
      const id = journal.nextMessageId();
      const appended = journal.append(1, `%24.mid=${id}`, payload);
      if (appended.ok) {
        model.payloads.set(appended.value, payload);
        appendedSinceFlush++;
      }
    } else if (r < 0.85) {
      const pending = journal.read(0, 4);
      const pick = pending[random() < 0.8 ? 0 : pending.length - 1];
      if (pick !== undefined) {
        journal.acknowledge(pick.seq);
        model.acked.add(pick.seq);
        ackedSinceFlush++;
      }
    } else {
      store.label = appendedSinceFlush > 0 ? 'append' : ackedSinceFlush > 0 ? 'acknowledge' : 'flush';
      let result;
      try {
        result = journal.flush();
      } catch (error) {
        return { model, died: true, kinds: [`FAIL flush threw: ${String(error)}`] };
      }
      if (!result.ok) return { model, died: true, kinds: store.labels };
      model.savedPending = journal.read(0, 1_000_000).map((e) => e.seq);
      for (const seq of model.acked) model.ackedSaved.add(seq);
      appendedSinceFlush = 0;
      ackedSinceFlush = 0;
    }
  }
  return { model, died: false, kinds: store.labels };
}

/** After a restart: the journal holds what the last completed write left, nothing acknowledged, all in order. */
function checkRecovered(store: CutStore, policy: JournalPolicy, model: Model, where: string, problems: string[]): void {
  store.powerOn();
  let bytes = 0;
  for (const [key, value] of store.entries) {
    if (value.length > 512) problems.push(`FAIL ${where}: ${key} is ${value.length} bytes, over the 512-byte segment`);
    bytes += value.length;
  }
  if (bytes > 4096) problems.push(`FAIL ${where}: journal takes ${bytes} bytes, over its 4096-byte budget`);
  const log: string[] = [];
  const journal = journalOn(store, policy, log);
  if (log.length > 0) problems.push(`FAIL ${where}: recovery warned: ${log.join('; ')}`);
  const recovered = journal.read(0, 1_000_000);
  const seqs = recovered.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! <= seqs[i - 1]!) problems.push(`FAIL ${where}: out of order at ${seqs[i]}`);
  for (const e of recovered) {
    if (model.ackedSaved.has(e.seq)) problems.push(`FAIL ${where}: acknowledged message ${e.seq} came back`);
    const payload = model.payloads.get(e.seq);
    if (payload === undefined || !same(payload, e.payload)) problems.push(`FAIL ${where}: message ${e.seq} is not what was appended`);
  }
  const present = new Set(seqs);
  const dropped = journal.stats().dropped;
  for (const seq of model.savedPending) {
    // Gone only when acknowledged in RAM before the cut (a partial flush may have saved that), or dropped.
    if (!present.has(seq) && !model.acked.has(seq) && dropped === 0) problems.push(`FAIL ${where}: journaled message ${seq} lost`);
  }
  // Carries on: everything acknowledged and saved leaves the journal empty after another restart.
  for (const e of recovered) journal.acknowledge(e.seq);
  const next = journal.append(1, `%24.mid=${journal.nextMessageId()}`, payloadFor(9999, 20));
  if (next.ok && present.has(next.value)) problems.push(`FAIL ${where}: new message reused seq ${next.value}`);
  if (next.ok && seqs.length > 0 && next.value <= seqs[seqs.length - 1]!) problems.push(`FAIL ${where}: seq went back to ${next.value}`);
  if (next.ok) journal.acknowledge(next.value);
  const flushed = journal.flush();
  if (!flushed.ok) problems.push(`FAIL ${where}: flush after restart: ${flushed.error.message}`);
  const again = journalOn(store, policy);
  if (again.stats().depth !== 0) problems.push(`FAIL ${where}: ${again.stats().depth} message(s) still pending after all were acknowledged`);
}

export function powerCutSweep(policy: JournalPolicy, seed: number, steps: number): { lines: string[]; problems: string[] } {
  const problems: string[] = [];
  const dry = new CutStore();
  const { kinds, died } = runWorkload(dry, policy, seed, steps, Number.POSITIVE_INFINITY);
  if (died) problems.push('FAIL dry run died');
  const total = dry.writes;
  const byKind: Record<string, number> = {};
  for (let cut = 1; cut <= total; cut++) {
    const store = new CutStore();
    const { model, died: cutDied } = runWorkload(store, policy, seed, steps, cut);
    if (!cutDied) problems.push(`FAIL cut at write ${cut} did not stop the run`);
    const kind = kinds[cut - 1] ?? '?';
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    checkRecovered(store, policy, model, `${policy} cut ${cut} (${kind})`, problems);
  }
  const dryJournal = journalOn(dry, policy);
  const wear = dryJournal.slotWrites();
  const lines = [
    `${policy}: ${total} writes, ${total} cuts (${Object.keys(byKind).sort().map((k) => `${k} ${byKind[k]}`).join(', ')}), ${problems.length} problem(s)`,
    `${policy}: writes per slot ${wear.join(' ')}; depth ${dryJournal.stats().depth}, dropped ${dryJournal.stats().dropped}`,
  ];
  return { lines, problems };
}

/** The budget full: what each policy does, in figures. */
export function budgetRun(policy: JournalPolicy): string[] {
  const store = new CutStore();
  const journal = journalOn(store, policy);
  const lines: string[] = [];
  let refused = '';
  let accepted = 0;
  let maxBytes = 0;
  for (let n = 0; n < 200; n++) {
    const r = journal.append(1, `%24.mid=${journal.nextMessageId()}`, payloadFor(n, 100));
    if (r.ok) accepted++;
    else if (refused === '') refused = `${n}: ${r.error.code} ${r.error.message}`;
    journal.flush();
    let bytes = 0;
    for (const value of store.entries.values()) bytes += value.length;
    maxBytes = Math.max(maxBytes, bytes);
  }
  const kept = journal.read(0, 1000).map((e) => e.seq);
  const s = journal.stats();
  lines.push(`${policy}: accepted ${accepted} of 200, kept ${kept.length} (seq ${kept[0]}..${kept[kept.length - 1]}), dropped ${s.dropped}, store bytes max ${maxBytes} of ${journal.budgetBytes}`);
  if (refused !== '') lines.push(`${policy}: first refusal at message ${refused}`);
  const reopened = journalOn(store, policy);
  lines.push(`${policy}: after restart depth ${reopened.stats().depth}, dropped ${reopened.stats().dropped}, next id ${reopened.nextMessageId()}`);
  return lines;
}

/** Damage one segment of a journal of 5 full segments in each way; the others must stay. */
export function corruptionRun(): string[] {
  const lines: string[] = [];
  const cases: Array<[string, (bytes: Uint8Array) => Uint8Array]> = [
    ['flipped byte', (b) => {
      const c = b.slice();
      c[c.length >> 1] = c[c.length >> 1]! ^ 0x01;
      return c;
    }],
    ['truncated record', (b) => b.slice(0, b.length - 7)],
    ['zeroed header', (b) => {
      const c = b.slice();
      c.fill(0, 0, 24);
      return c;
    }],
    ['empty value', () => new Uint8Array(0)],
  ];
  for (const [name, damage] of cases) {
    const store = new CutStore();
    const journal = journalOn(store, 'drop-oldest');
    for (let n = 0; n < 15; n++) {
      journal.append(1, `%24.mid=${journal.nextMessageId()}`, payloadFor(n, 100));
      journal.flush();
    }
    journal.acknowledge(0);
    journal.flush();
    store.set('tj2', damage(store.get('tj2')!));
    const log: string[] = [];
    const reopened = journalOn(store, 'drop-oldest', log);
    const seqs = reopened.read(0, 100).map((e) => e.seq);
    lines.push(`${name}: kept ${seqs.length} [${seqs.join(',')}]; ${log.join('; ')}`);
    // It keeps working: the damaged slot is written over in its turn.
    for (let n = 15; n < 40; n++) {
      reopened.append(1, `%24.mid=${reopened.nextMessageId()}`, payloadFor(n, 100));
      reopened.flush();
    }
    const after = journalOn(store, 'drop-oldest');
    lines.push(`${name}: after 25 more, depth ${after.stats().depth}, dropped ${after.stats().dropped}`);
  }
  return lines;
}

export function runJournalBattery(): string[] {
  const lines: string[] = [];
  for (const policy of ['drop-oldest', 'refuse-newest'] as const) {
    const sweep = powerCutSweep(policy, 20261202, 400);
    lines.push(...sweep.lines, ...sweep.problems.slice(0, 20));
  }
  lines.push(...budgetRun('drop-oldest'), ...budgetRun('refuse-newest'), ...corruptionRun());
  return lines;
}
