// KeyValueStore over Moddable's Preference, whose names and values are short (ESP32 NVS: 15-character keys,
// values of a few KB; nRF52: 63-byte values). Pure: the Preference calls come in through `PreferenceBackend`,
// so the crash behaviour is tested on Node with a backend that can "lose power" after any write.
//
// Layout for one of our keys, in one Preference domain:
//   index  "k" + 8 hex digits of FNV-1a(slot + ":" + key)        -> "v1 <gen> <chunks> <length> <fnv-hex> <key>"
//   chunk  index name + generation ("a"|"b") + chunk number (base 36) -> ArrayBuffer of at most chunkBytes
// A new value goes into the generation the index does NOT point at, and the index is written LAST. Each
// Preference write is atomic on its own (ESP-IDF NVS), so a power cut at any moment leaves the index naming
// either the old, complete generation or the new, complete one. Stale chunks are deleted only after the index
// has moved. Chunks are written first to last and deleted last to first, so those of a generation always form a
// prefix 0..n-1, even after a cut, and probing upward from a chunk number finds every stale one.
// The index carries the original key (verified on read: different keys never share an entry) and a checksum.
import type { KeyValueStore } from '../../src/ports';
import { fnv1aBytes, fnv1aString, hex8 } from './fnv1a';

export type PreferenceValue = string | boolean | number | ArrayBuffer;

export interface PreferenceBackend {
  get(domain: string, key: string): PreferenceValue | undefined;
  set(domain: string, key: string, value: PreferenceValue): void;
  delete(domain: string, key: string): void;
  keys(domain: string): string[];
}

export interface ChunkedStoreOptions {
  /** Preference domain (an NVS namespace on ESP32: at most 15 characters). */
  domain: string;
  /** Largest value one Preference entry may hold on this platform; also bounds the index entry. */
  chunkBytes: number;
}

/** How many alternative index names a key may use when its hash collides with another key's. */
const SLOTS = 4;
const INDEX_NAME_LENGTH = 9;
const FORMAT = 'v1';

type Generation = 'a' | 'b';

interface IndexEntry {
  gen: Generation;
  chunks: number;
  length: number;
  checksum: string;
  key: string;
}

export function indexName(key: string, slot: number): string {
  return `k${hex8(fnv1aString(`${slot}:${key}`))}`;
}

function chunkName(index: string, gen: Generation, i: number): string {
  return `${index}${gen}${i.toString(36)}`;
}

function formatIndex(entry: IndexEntry): string {
  return `${FORMAT} ${entry.gen} ${entry.chunks} ${entry.length} ${entry.checksum} ${entry.key}`;
}

function parseIndex(value: PreferenceValue | undefined): IndexEntry | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.split(' ');
  if (parts.length < 6 || parts[0] !== FORMAT || (parts[1] !== 'a' && parts[1] !== 'b')) return undefined;
  const chunks = Number(parts[2]);
  const length = Number(parts[3]);
  if (!Number.isInteger(chunks) || chunks < 0 || !Number.isInteger(length) || length < 0) return undefined;
  return { gen: parts[1], chunks, length, checksum: parts[4], key: parts.slice(5).join(' ') };
}

export function createChunkedStore(backend: PreferenceBackend, options: ChunkedStoreOptions): KeyValueStore {
  const { domain, chunkBytes } = options;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new Error(`store: chunkBytes must be a positive integer, got ${chunkBytes}`);

  const find = (key: string): { name: string; entry: IndexEntry } | undefined => {
    for (let slot = 0; slot < SLOTS; slot++) {
      const name = indexName(key, slot);
      const entry = parseIndex(backend.get(domain, name));
      if (entry?.key === key) return { name, entry };
    }
    return undefined;
  };

  const freeSlot = (key: string): string => {
    for (let slot = 0; slot < SLOTS; slot++) {
      const name = indexName(key, slot);
      // An entry we cannot parse belongs to no key (a foreign or damaged value): reuse its name.
      if (parseIndex(backend.get(domain, name)) === undefined) return name;
    }
    throw new Error(`store: no free index entry for key "${key}" (${SLOTS} hash collisions)`);
  };

  // Deletes chunks from..end of a generation, last first, so a cut mid-sweep still leaves a prefix.
  const sweep = (name: string, gen: Generation, from: number): void => {
    let end = from;
    while (backend.get(domain, chunkName(name, gen, end)) !== undefined) end++;
    for (let i = end - 1; i >= from; i--) backend.delete(domain, chunkName(name, gen, i));
  };

  return {
    get(key) {
      const found = find(key);
      if (!found) return undefined;
      const { name, entry } = found;
      const value = new Uint8Array(entry.length);
      let filled = 0;
      for (let i = 0; i < entry.chunks; i++) {
        const chunk = backend.get(domain, chunkName(name, entry.gen, i));
        if (!(chunk instanceof ArrayBuffer) || filled + chunk.byteLength > entry.length) {
          throw new Error(`store: value of "${key}" is damaged (chunk ${i} of ${entry.chunks} missing or wrong size)`);
        }
        value.set(new Uint8Array(chunk), filled);
        filled += chunk.byteLength;
      }
      if (filled !== entry.length || hex8(fnv1aBytes(value)) !== entry.checksum) {
        throw new Error(`store: value of "${key}" is damaged (length or checksum does not match its index)`);
      }
      return value;
    },

    set(key, value) {
      const found = find(key);
      const name = found?.name ?? freeSlot(key);
      const gen: Generation = found?.entry.gen === 'a' ? 'b' : 'a';
      const entry: IndexEntry = {
        gen,
        chunks: Math.ceil(value.length / chunkBytes),
        length: value.length,
        checksum: hex8(fnv1aBytes(value)),
        key,
      };
      const index = formatIndex(entry);
      if (index.length > chunkBytes) {
        throw new Error(`store: key "${key}" is too long for this platform's ${chunkBytes}-byte preference values`);
      }
      for (let i = 0; i < entry.chunks; i++) {
        // A real ArrayBuffer of exactly this chunk: Preference rejects or mangles views.
        backend.set(domain, chunkName(name, gen, i), value.slice(i * chunkBytes, (i + 1) * chunkBytes).buffer);
      }
      backend.set(domain, name, index);
      sweep(name, gen === 'a' ? 'b' : 'a', 0);
      sweep(name, gen, entry.chunks);
    },

    delete(key) {
      const found = find(key);
      if (!found) return;
      backend.delete(domain, found.name);
      sweep(found.name, 'a', 0);
      sweep(found.name, 'b', 0);
    },

    keys() {
      const names = new Set<string>();
      for (const name of backend.keys(domain)) {
        if (name.length !== INDEX_NAME_LENGTH || name[0] !== 'k') continue;
        const entry = parseIndex(backend.get(domain, name));
        if (entry && indexSlotMatches(entry.key, name)) names.add(entry.key);
      }
      return [...names];
    },
  };
}

function indexSlotMatches(key: string, name: string): boolean {
  for (let slot = 0; slot < SLOTS; slot++) if (indexName(key, slot) === name) return true;
  return false;
}
