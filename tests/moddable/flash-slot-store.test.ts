// The raw-flash store for the telemetry journal (hosts/moddable/flash-slot-store.ts) on a fake NOR flash: erase
// sets a sector to 0xFF, a write can only clear bits. Power is cut at every erase and write of a seeded run, and
// part-way through writes; after each cut every key reads as its old or its new value, never anything else. Then
// the journal itself runs on it with the ESP32 default budget (64 KB in a 128 KB partition).

import { createFlashSlotStore, flashSlotCapacity, type FlashBackend } from '../../hosts/moddable/flash-slot-store';
import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { rng } from '../storage/journal-battery';

class FakeFlash implements FlashBackend {
  readonly bytes: Uint8Array;
  ops = 0;
  cutAt = Number.POSITIVE_INFINITY;
  /** Bytes a cut write still gets through, as a fraction of it. */
  partial = 0;
  readonly erases: number[];

  constructor(
    readonly blockSize: number,
    blocks: number,
  ) {
    this.bytes = new Uint8Array(blockSize * blocks).fill(0xff);
    this.erases = new Array<number>(blocks).fill(0);
  }
  get byteLength(): number {
    return this.bytes.length;
  }
  erase(block: number): void {
    if (++this.ops >= this.cutAt) throw new Error('power cut in erase');
    this.bytes.fill(0xff, block * this.blockSize, (block + 1) * this.blockSize);
    this.erases[block]!++;
  }
  read(offset: number, byteLength: number): ArrayBuffer {
    return this.bytes.slice(offset, offset + byteLength).buffer;
  }
  write(offset: number, byteLength: number, buffer: ArrayBuffer): void {
    const data = new Uint8Array(buffer, 0, byteLength);
    const cut = ++this.ops >= this.cutAt;
    const n = cut ? Math.floor(byteLength * this.partial) : byteLength;
    for (let i = 0; i < n; i++) this.bytes[offset + i]! &= data[i]!;
    if (cut) throw new Error('power cut in write');
  }
}

const hex = (b: Uint8Array | undefined): string => (b === undefined ? '-' : Buffer.from(b).toString('hex'));

describe('each set and delete is atomic across a power cut', () => {
  test('at every erase and write of 120 random operations (writes cut at 0, 50 and 99 %), keys read old or new', () => {
    const ops: Array<[string, Uint8Array | undefined]> = [];
    const random = rng(99);
    for (let i = 0; i < 120; i++) {
      const key = `tj${Math.floor(random() * 4)}`;
      const value = random() < 0.15 ? undefined : Uint8Array.from({ length: 1 + Math.floor(random() * 400) }, (_, j) => (i * 7 + j) & 0xff);
      ops.push([key, value]);
    }
    const dry = new FakeFlash(512, 8);
    const dryStore = createFlashSlotStore(dry);
    for (const [key, value] of ops) (value === undefined ? dryStore.delete(key) : dryStore.set(key, value));
    let cuts = 0;
    for (let cut = 1; cut <= dry.ops; cut++) {
      for (const partial of [0, 0.5, 0.99]) {
        const flash = new FakeFlash(512, 8);
        flash.cutAt = cut;
        flash.partial = partial;
        const store = createFlashSlotStore(flash);
        const model = new Map<string, Uint8Array>();
        let pending: [string, Uint8Array | undefined] | undefined;
        try {
          for (const op of ops) {
            pending = op;
            if (op[1] === undefined) store.delete(op[0]);
            else store.set(op[0], op[1]);
            if (op[1] === undefined) model.delete(op[0]);
            else model.set(op[0], op[1]);
          }
        } catch {
          cuts++;
        }
        flash.cutAt = Number.POSITIVE_INFINITY;
        const reopened = createFlashSlotStore(flash);
        for (const key of ['tj0', 'tj1', 'tj2', 'tj3']) {
          const got = hex(reopened.get(key));
          const old = hex(model.get(key));
          const allowed = pending !== undefined && pending[0] === key ? [old, hex(pending[1])] : [old];
          if (!allowed.includes(got)) throw new Error(`cut ${cut} (${partial}): ${key} reads ${got.slice(0, 16)}, expected one of ${allowed.map((a) => a.slice(0, 16)).join(' / ')}`);
        }
      }
    }
    expect(cuts).toBe(dry.ops * 3);
  });

  test('keys outside the ring and values over a sector are refused by name', () => {
    const store = createFlashSlotStore(new FakeFlash(4096, 32));
    expect(store.slots).toBe(16);
    expect(flashSlotCapacity({ blockSize: 4096 })).toBe(4082);
    expect(() => store.set('azfw', new Uint8Array(1))).toThrow('flash store: key "azfw" is not one of tj0..tj15');
    expect(() => store.set('tj16', new Uint8Array(1))).toThrow('flash store: key "tj16" is not one of tj0..tj15');
    expect(() => store.set('tj0', new Uint8Array(4083))).toThrow('flash store: a value of 4083 bytes is over the 4082-byte slot');
  });
});

describe('the telemetry journal on a 128 KB partition', () => {
  test('64 KB budget, 16 segments of one sector each; survives a reboot; erases spread over all 32 sectors', () => {
    const flash = new FakeFlash(4096, 32);
    const open = () => new TelemetryJournal({ store: createFlashSlotStore(flash), budgetBytes: 65_536, segmentBytes: flashSlotCapacity(flash), newId: () => 7 });
    let journal = open();
    expect(journal.slots).toBe(16);
    for (let n = 0; n < 3000; n++) {
      const r = journal.append(1, `%24.mid=${journal.nextMessageId()}`, new Uint8Array(60).fill(n & 0xff));
      expect(r.ok).toBe(true);
      if (n >= 100) journal.acknowledge(n - 100); // 100 messages waiting at any time
      if (n % 10 === 9) journal.flush();
      if (n % 1000 === 999) journal = open(); // a reboot
    }
    journal.flush();
    const after = open();
    expect(after.stats().depth).toBe(100);
    expect(after.read(0, 1)[0]!.seq).toBe(2900);
    const used = flash.erases.filter((e) => e > 0).length;
    expect(used).toBe(32);
    expect(Math.max(...flash.erases) / Math.min(...flash.erases)).toBeLessThan(1.5);
  });
});
