// Store-and-forward telemetry: messages kept on flash until the hub acknowledges them, across outages and reboots.
// A ring of `slots` fixed-size segments, one store key each ("tj0", "tj1", ...), so the journal never takes more
// than budgetBytes of values. Appends gather in the open segment in RAM; flush() writes it (one store write for
// many messages). Segments are used in ring order, so every slot is written in turn and the wear is spread; each
// header counts its slot's writes. The open segment's header also carries the acknowledgement state, so an
// acknowledgement costs no write of its own: it is saved by the next flush. When the ring comes round to a slot
// whose messages are all acknowledged, that slot is reclaimed by overwriting it (the compaction); when they are
// not, the budget is full and the policy decides: 'drop-oldest' gives up that whole oldest segment (counted in
// `dropped`), 'refuse-newest' refuses the new message.
// Every store write is one key, which the store ports replace atomically, so a power cut leaves each segment
// old or new: after a restart the journal is what the last completed write left. A segment that does not decode
// (flipped byte, truncated, zeroed) is skipped with a warning and the others are kept.

import type { KeyValueStore, LogLevel } from '../ports';
import { errorText } from '../errors';
import { err, ok, type Result } from '../result';
import { decodeSegment, encodeSegment, entrySize, MAX_MARKS, SEGMENT_OVERHEAD, type JournalEntry } from './journal-segment';
import { WRITTEN, type StorageWrite } from './storage-result';

export type { JournalEntry } from './journal-segment';

export type JournalPolicy = 'drop-oldest' | 'refuse-newest';

export interface JournalOptions {
  store: KeyValueStore;
  /** Bytes the journal's values may take in the store, at most. Default 64 KB. */
  budgetBytes?: number;
  /** Bytes of one segment (one store value). Default 4 KB; the budget holds budgetBytes / segmentBytes of them. */
  segmentBytes?: number;
  /** When every segment holds unacknowledged messages. Default 'drop-oldest'. */
  policy?: JournalPolicy;
  /** Key prefix. Default "tj". */
  prefix?: string;
  /** A random 32-bit number: names a new journal in its message ids. */
  newId(): number;
  /** Unix seconds now, or undefined while the clock is not set: stamps each message for the oldest-age figure. */
  unixSeconds?(): number | undefined;
  log?(level: LogLevel, message: string): void;
}

export type JournalErrorCode = 'too-large' | 'journal-full' | 'write-failing';

export interface JournalError {
  code: JournalErrorCode;
  message: string;
}

export interface JournalStats {
  /** Messages kept and not acknowledged. */
  depth: number;
  /** Store bytes of the segments that hold them (whole segments). */
  bytes: number;
  /** Seconds since the oldest unacknowledged message was appended; undefined when empty or the clock is unset. */
  oldestAgeSeconds: number | undefined;
  /** Messages given up by 'drop-oldest' over the journal's life. */
  dropped: number;
  budgetBytes: number;
}

interface Seg {
  slot: number;
  segNo: number;
  firstSeq: number;
  count: number;
  /** Writes of this slot so far, the pending one not included. */
  writes: number;
  /** Bytes it takes in the store at most: SEGMENT_OVERHEAD plus its messages' entrySize. */
  bytes: number;
  /** In RAM while it is the open segment or not yet written. */
  entries: JournalEntry[] | undefined;
  dirty: boolean;
}

export const DEFAULT_JOURNAL_BUDGET = 64 * 1024;
export const DEFAULT_SEGMENT_BYTES = 4096;

export class TelemetryJournal {
  readonly budgetBytes: number;
  readonly segmentBytes: number;
  readonly slots: number;
  readonly policy: JournalPolicy;
  private readonly store: KeyValueStore;
  private readonly prefix: string;
  private readonly options: JournalOptions;
  /** Oldest first; the last one is the open segment. */
  private segs: Seg[] = [];
  private readonly writesBySlot: number[] = [];
  private journalId = 0;
  private seq = 0;
  private ackedBelow = 0;
  private readonly marks = new Set<number>();
  private droppedCount = 0;
  private ackDirty = false;
  private flushedBelow = 0;
  private cache: { segNo: number; entries: JournalEntry[] } | undefined;

  /** Opens the journal in `options.store`, reading every segment there (a damaged one is skipped and logged). */
  constructor(options: JournalOptions) {
    this.options = options;
    this.store = options.store;
    this.prefix = options.prefix ?? 'tj';
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.budgetBytes = options.budgetBytes ?? DEFAULT_JOURNAL_BUDGET;
    this.policy = options.policy ?? 'drop-oldest';
    this.slots = Math.floor(this.budgetBytes / this.segmentBytes);
    if (this.segmentBytes < SEGMENT_OVERHEAD + 64 || this.slots < 2) {
      throw new RangeError(`journal: budgetBytes must hold 2 segments of segmentBytes >= ${SEGMENT_OVERHEAD + 64}`);
    }
    for (let i = 0; i < this.slots; i++) this.writesBySlot.push(0);
    this.recover();
  }

  // ---- writing ---------------------------------------------------------------------------------------------

  /** The `$.mid` the next append gets, unless the caller gives its own: the journal id and the sequence number. */
  nextMessageId(): string {
    return `${(this.journalId >>> 0).toString(16).padStart(8, '0')}-${this.seq}`;
  }

  /** Messages given up by 'drop-oldest' over the journal's life (stats() without reading anything). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The sequence number the next append gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Largest message (property bag and payload, as entrySize counts them) one segment can take. */
  get maxEntryBytes(): number {
    return this.segmentBytes - SEGMENT_OVERHEAD;
  }

  /** Keeps a message in RAM (written by the next flush); returns its sequence number. */
  append(qos: 0 | 1, bag: string, payload: Uint8Array): Result<number, JournalError> {
    const size = entrySize(bag, payload.length);
    if (size > this.maxEntryBytes) {
      return err({ code: 'too-large', message: `telemetry of ${size} bytes is over the ${this.maxEntryBytes}-byte journal segment` });
    }
    let open = this.open();
    if (open.bytes + size > this.segmentBytes) {
      if (this.segs.filter((s) => s.dirty).length >= 2) {
        return err({ code: 'write-failing', message: 'journal: the store is not taking writes; 2 segments wait in RAM' });
      }
      const next = (open.slot + 1) % this.slots;
      const room = this.reclaim(next);
      if (room !== undefined) return err(room);
      open.entries = open.dirty ? open.entries : undefined;
      open = this.newSegment(next, open.segNo + 1, this.seq);
    }
    const time = this.options.unixSeconds?.() ?? 0;
    open.entries!.push({ seq: this.seq, qos, time: time > 0 ? Math.floor(time) : 0, bag, payload });
    open.count++;
    open.bytes += size;
    open.dirty = true;
    return ok(this.seq++);
  }

  /** The hub acknowledged `seq`: it is never handed out again (saved by the next flush). */
  acknowledge(seq: number): void {
    if (seq < this.ackedBelow || seq >= this.seq || this.marks.has(seq)) return;
    this.marks.add(seq);
    while (this.marks.delete(this.ackedBelow)) this.ackedBelow++;
    this.skipGaps();
    this.ackDirty = true;
  }

  /** Whether flush() has something to write. */
  get dirty(): boolean {
    return this.ackDirty || this.segs.some((s) => s.dirty);
  }

  /** Messages up to this sequence number (excluded) are on flash. */
  get journaledBelow(): number {
    return this.flushedBelow;
  }

  /**
   * Writes what waits in RAM, oldest segment first, with the acknowledgement state in each header. Stops at the
   * first failed write (what came before it stays written); the rest is tried again by the next flush.
   */
  flush(): StorageWrite {
    if (!this.dirty) return WRITTEN;
    const open = this.open();
    if (this.ackDirty) open.dirty = true;
    for (const s of this.segs) {
      if (!s.dirty) continue;
      const bytes = encodeSegment({
        journalId: this.journalId,
        segNo: s.segNo,
        writes: s.writes + 1,
        firstSeq: s.firstSeq,
        ackedBelow: this.ackedBelow,
        dropped: this.droppedCount,
        marks: [...this.marks].sort((a, b) => a - b).slice(0, MAX_MARKS),
        entries: s.entries ?? [],
      });
      try {
        this.store.set(this.key(s.slot), bytes);
      } catch (error) {
        return { ok: false, error: { code: 'write-failed', message: `journal: writing ${this.key(s.slot)} failed: ${errorText(error)}` } };
      }
      s.writes++;
      this.writesBySlot[s.slot] = s.writes;
      s.dirty = false;
      this.flushedBelow = s.firstSeq + s.count;
      if (s !== open) s.entries = undefined;
    }
    this.ackDirty = false;
    return this.dropOutsideRing();
  }

  /** Segments left outside the ring by a smaller budget are deleted once nothing in them waits. */
  private dropOutsideRing(): StorageWrite {
    for (const s of this.segs) {
      if (s.slot < this.slots || this.liveIn(s) > 0) continue;
      try {
        this.store.delete(this.key(s.slot));
      } catch (error) {
        return { ok: false, error: { code: 'write-failed', message: `journal: deleting ${this.key(s.slot)} failed: ${errorText(error)}` } };
      }
      this.segs = this.segs.filter((x) => x !== s);
    }
    return WRITTEN;
  }

  // ---- reading ---------------------------------------------------------------------------------------------

  /** The oldest message not acknowledged, or undefined when none is kept. */
  get firstUnacknowledged(): number | undefined {
    return this.read(0, 1)[0]?.seq;
  }

  /** Whether `seq` is still kept and not acknowledged. */
  isPending(seq: number): boolean {
    if (seq < this.ackedBelow || seq >= this.seq || this.marks.has(seq)) return false;
    return this.segs.some((s) => seq >= s.firstSeq && seq < s.firstSeq + s.count);
  }

  /** Up to `max` unacknowledged messages with seq >= fromSeq, oldest first (older segments read from the store). */
  read(fromSeq: number, max: number): JournalEntry[] {
    const out: JournalEntry[] = [];
    const from = Math.max(fromSeq, this.ackedBelow);
    for (const s of this.segs) {
      if (out.length >= max) break;
      if (s.firstSeq + s.count <= from) continue;
      const entries = this.entriesOf(s);
      for (const e of entries) {
        if (out.length >= max) break;
        if (e.seq >= from && !this.marks.has(e.seq)) out.push(e);
      }
    }
    return out;
  }

  stats(): JournalStats {
    let depth = 0;
    let bytes = 0;
    for (const s of this.segs) {
      const live = this.liveIn(s);
      depth += live;
      if (live > 0) bytes += s.bytes;
    }
    const oldest = depth > 0 ? this.read(0, 1)[0] : undefined;
    const now = this.options.unixSeconds?.();
    const oldestAgeSeconds = oldest !== undefined && oldest.time > 0 && now !== undefined && now > 0 ? Math.max(0, Math.floor(now) - oldest.time) : undefined;
    return { depth, bytes, oldestAgeSeconds, dropped: this.droppedCount, budgetBytes: this.budgetBytes };
  }

  /** Writes per slot as the headers count them (0 for a slot never written): how evenly the wear is spread. */
  slotWrites(): number[] {
    return this.writesBySlot.slice();
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private key(slot: number): string {
    return `${this.prefix}${slot}`;
  }

  private open(): Seg {
    return this.segs[this.segs.length - 1]!;
  }

  private newSegment(slot: number, segNo: number, firstSeq: number): Seg {
    const seg: Seg = { slot, segNo, firstSeq, count: 0, writes: this.writesBySlot[slot] ?? 0, bytes: SEGMENT_OVERHEAD, entries: [], dirty: true };
    this.segs.push(seg);
    return seg;
  }

  /** Frees `slot` for a new segment: reclaims acknowledged messages, or applies the policy to live ones. */
  private reclaim(slot: number): JournalError | undefined {
    const i = this.segs.findIndex((s) => s.slot === slot);
    if (i < 0) return undefined;
    const old = this.segs[i]!;
    const live = this.liveIn(old);
    if (live > 0) {
      if (this.policy === 'refuse-newest') {
        return { code: 'journal-full', message: `journal full: ${this.budgetBytes} bytes hold unacknowledged telemetry` };
      }
      this.droppedCount += live;
      this.log('warn', `journal full: dropped the oldest ${live} message(s)`);
      this.ackedBelow = Math.max(this.ackedBelow, old.firstSeq + old.count);
      for (const m of this.marks) if (m < this.ackedBelow) this.marks.delete(m);
      this.ackDirty = true;
    }
    this.segs.splice(i, 1);
    if (this.cache?.segNo === old.segNo) this.cache = undefined;
    return undefined;
  }

  private liveIn(s: Seg): number {
    const from = Math.max(s.firstSeq, this.ackedBelow);
    const end = s.firstSeq + s.count;
    if (from >= end) return 0;
    let live = end - from;
    for (const m of this.marks) if (m >= from && m < end) live--;
    return live;
  }

  /** Sequence numbers no segment holds (a skipped segment) count as acknowledged for the low-water mark. */
  private skipGaps(): void {
    for (const s of this.segs) {
      if (s.firstSeq + s.count <= this.ackedBelow) continue;
      if (s.firstSeq > this.ackedBelow) this.ackedBelow = s.firstSeq;
      break;
    }
    for (const m of this.marks) if (m < this.ackedBelow) this.marks.delete(m);
  }

  private entriesOf(s: Seg): JournalEntry[] {
    if (s.entries !== undefined) return s.entries;
    if (this.cache?.segNo === s.segNo) return this.cache.entries;
    let bytes: Uint8Array | undefined;
    try {
      bytes = this.store.get(this.key(s.slot));
    } catch (error) {
      this.log('warn', `journal: reading ${this.key(s.slot)} failed: ${errorText(error)}`);
    }
    const decoded = decodeSegment(bytes);
    if (!decoded.ok || decoded.value.segNo !== s.segNo) {
      // Damaged after it was opened: its messages are gone; the rest stays.
      this.log('warn', `journal: segment ${this.key(s.slot)} skipped: ${decoded.ok ? 'replaced' : decoded.error.message}`);
      this.segs = this.segs.filter((x) => x !== s);
      this.skipGaps();
      return [];
    }
    this.cache = { segNo: s.segNo, entries: decoded.value.entries };
    return decoded.value.entries;
  }

  private recover(): void {
    let keys: string[] = [];
    try {
      keys = this.store.keys();
    } catch (error) {
      this.log('warn', `journal: listing the store failed: ${errorText(error)}`);
    }
    const found: Array<{ seg: Seg; ackedBelow: number; marks: number[]; dropped: number; journalId: number }> = [];
    for (const key of keys) {
      if (!key.startsWith(this.prefix)) continue;
      const slotText = key.slice(this.prefix.length);
      if (!/^[0-9]{1,4}$/.test(slotText)) continue;
      const slot = Number(slotText);
      let bytes: Uint8Array | undefined;
      try {
        bytes = this.store.get(key);
      } catch (error) {
        this.log('warn', `journal: segment ${key} skipped: ${errorText(error)}`);
        continue;
      }
      const decoded = decodeSegment(bytes);
      if (!decoded.ok) {
        this.log('warn', `journal: segment ${key} skipped: ${decoded.error.message}`);
        continue;
      }
      const d = decoded.value;
      if (slot < this.slots) this.writesBySlot[slot] = d.writes;
      let used = SEGMENT_OVERHEAD;
      for (const e of d.entries) used += entrySize(e.bag, e.payload.length);
      found.push({
        seg: { slot, segNo: d.segNo, firstSeq: d.firstSeq, count: d.entries.length, writes: d.writes, bytes: used, entries: undefined, dirty: false },
        ackedBelow: d.ackedBelow,
        marks: d.marks,
        dropped: d.dropped,
        journalId: d.journalId,
      });
    }
    found.sort((a, b) => a.seg.segNo - b.seg.segNo);
    // Segments out of sequence order (not written by this ring) cannot be trusted to mean what they say.
    const kept: typeof found = [];
    for (const f of found) {
      const prev = kept[kept.length - 1];
      if (prev !== undefined && f.seg.firstSeq < prev.seg.firstSeq + prev.seg.count) {
        this.log('warn', `journal: segment ${this.key(f.seg.slot)} skipped: its messages overlap an older segment's`);
        continue;
      }
      kept.push(f);
    }
    const newest = kept[kept.length - 1];
    if (newest === undefined) {
      this.journalId = this.options.newId() >>> 0;
      this.newSegment(0, 1, 0);
      return;
    }
    this.journalId = newest.journalId;
    for (const f of kept) {
      this.ackedBelow = Math.max(this.ackedBelow, f.ackedBelow);
      this.droppedCount = Math.max(this.droppedCount, f.dropped);
      this.segs.push(f.seg);
    }
    for (const m of newest.marks) if (m >= this.ackedBelow) this.marks.add(m);
    this.seq = newest.seg.firstSeq + newest.seg.count;
    this.flushedBelow = this.seq;
    this.skipGaps();
    const open = newest.seg;
    if (open.slot < this.slots) {
      open.entries = this.entriesOf(open).slice();
      // The open segment's entries now live in RAM; keep them off the read cache.
      this.cache = undefined;
      if (this.segs.includes(open)) return;
    }
    // The newest segment lies outside this ring (the budget shrank) or could not be read back: start a new one.
    this.newSegment(this.nextFreeSlot(), open.segNo + 1, this.seq);
  }

  private nextFreeSlot(): number {
    for (let i = 0; i < this.slots; i++) if (!this.segs.some((s) => s.slot === i)) return i;
    return 0;
  }

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}
