// KeyValueStore for the telemetry journal on a raw flash partition (Moddable's `flash` module on ESP32), for
// boards whose Preference/NVS space cannot hold the journal (docs/storage.md has the figures). Pure: the flash
// calls come in through `FlashBackend`, so power cuts (in an erase, or part-way through a write) are tested on Node.
//
// Keys are `<prefix><n>` for n < slots (the journal's segment keys); any other key is refused. Slot n owns two
// sectors, 2n and 2n+1. A value is written whole into the sector that does NOT hold the slot's current copy:
//   magic "FS" (2) | generation u32 | length u32 | value | CRC-32 of everything before (4)      (big-endian)
// then it is current, having the higher generation and a good CRC. A power cut before the CRC's last byte leaves
// that sector unreadable, so the other one (the old value) stays current: each set() is atomic. delete() writes a
// zero-length copy the same way. Every write erases one sector: the A/B alternation halves the erases per sector.

import type { KeyValueStore } from '../../src/ports';
import { crc32 } from '../../src/storage/crc32';
import { readU32, writeU32 } from '../../src/storage/record';

export interface FlashBackend {
  readonly blockSize: number;
  readonly byteLength: number;
  erase(block: number): void;
  read(offset: number, byteLength: number): ArrayBuffer;
  write(offset: number, byteLength: number, buffer: ArrayBuffer): void;
}

export interface FlashSlotStoreOptions {
  /** Key prefix; default "tj", the journal's. */
  prefix?: string;
}

const HEADER = 10;
const OVERHEAD = HEADER + 4;

interface Copy {
  sector: number;
  generation: number;
  length: number;
}

/** The largest value a slot takes on `flash`: one sector less the 14-byte frame. */
export function flashSlotCapacity(flash: Pick<FlashBackend, 'blockSize'>): number {
  return flash.blockSize - OVERHEAD;
}

export function createFlashSlotStore(flash: FlashBackend, options: FlashSlotStoreOptions = {}): KeyValueStore & { readonly slots: number } {
  const prefix = options.prefix ?? 'tj';
  const slots = Math.floor(flash.byteLength / flash.blockSize / 2);
  const capacity = flashSlotCapacity(flash);

  const slotOf = (key: string): number => {
    const n = key.startsWith(prefix) ? Number(key.slice(prefix.length)) : NaN;
    if (!Number.isInteger(n) || n < 0 || n >= slots || `${prefix}${n}` !== key) {
      throw new Error(`flash store: key "${key}" is not one of ${prefix}0..${prefix}${slots - 1}`);
    }
    return n;
  };

  /** The sector's copy when its frame and CRC hold. */
  const readCopy = (sector: number): Copy | undefined => {
    const head = new Uint8Array(flash.read(sector * flash.blockSize, HEADER));
    if (head[0] !== 0x46 || head[1] !== 0x53) return undefined;
    const length = readU32(head, 6);
    if (length > capacity) return undefined;
    const all = new Uint8Array(flash.read(sector * flash.blockSize, OVERHEAD + length));
    if (readU32(all, HEADER + length) !== crc32(all, 0, HEADER + length)) return undefined;
    return { sector, generation: readU32(all, 2), length };
  };

  const current = (slot: number): Copy | undefined => {
    const a = readCopy(slot * 2);
    const b = readCopy(slot * 2 + 1);
    if (a === undefined) return b;
    if (b === undefined) return a;
    return b.generation > a.generation ? b : a;
  };

  const put = (slot: number, value: Uint8Array): void => {
    if (value.length > capacity) throw new Error(`flash store: a value of ${value.length} bytes is over the ${capacity}-byte slot`);
    const now = current(slot);
    const sector = now === undefined ? slot * 2 : now.sector === slot * 2 ? slot * 2 + 1 : slot * 2;
    const framed = new Uint8Array(OVERHEAD + value.length);
    framed[0] = 0x46;
    framed[1] = 0x53;
    writeU32(framed, 2, ((now?.generation ?? 0) + 1) >>> 0);
    writeU32(framed, 6, value.length);
    framed.set(value, HEADER);
    writeU32(framed, HEADER + value.length, crc32(framed, 0, HEADER + value.length));
    flash.erase(sector);
    flash.write(sector * flash.blockSize, framed.length, framed.buffer);
  };

  return {
    slots,
    get(key) {
      const copy = current(slotOf(key));
      if (copy === undefined || copy.length === 0) return undefined;
      return new Uint8Array(flash.read(copy.sector * flash.blockSize + HEADER, copy.length));
    },
    set(key, value) {
      put(slotOf(key), value);
    },
    delete(key) {
      const slot = slotOf(key);
      const copy = current(slot);
      if (copy !== undefined && copy.length > 0) put(slot, new Uint8Array(0));
    },
    keys() {
      const keys: string[] = [];
      for (let n = 0; n < slots; n++) {
        const copy = current(n);
        if (copy !== undefined && copy.length > 0) keys.push(`${prefix}${n}`);
      }
      return keys;
    },
  };
}
