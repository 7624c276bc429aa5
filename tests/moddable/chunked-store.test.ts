// The Preference-backed store's layout and its power-cut guarantee, on Node with an in-memory Preference.
import { createChunkedStore, indexName, type PreferenceBackend, type PreferenceValue } from '../../hosts/moddable/chunked-store';

class PowerCut extends Error {}

/** In-memory Preference. `cutAfter` mutations (set/delete) succeed, then the "power" goes. */
class FakePreference implements PreferenceBackend {
  readonly data = new Map<string, Map<string, PreferenceValue>>();
  mutations = 0;
  cutAfter = Number.POSITIVE_INFINITY;

  get(domain: string, key: string): PreferenceValue | undefined {
    const value = this.data.get(domain)?.get(key);
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  }
  set(domain: string, key: string, value: PreferenceValue): void {
    this.mutate();
    if (key.length > 15) throw new Error(`key ${key} longer than NVS allows`);
    if (value instanceof ArrayBuffer) value = value.slice(0);
    else if (typeof value === 'object') throw new Error('Preference takes ArrayBuffer, not a view');
    if (!this.data.has(domain)) this.data.set(domain, new Map());
    this.data.get(domain)!.set(key, value);
  }
  delete(domain: string, key: string): void {
    this.mutate();
    this.data.get(domain)?.delete(key);
  }
  keys(domain: string): string[] {
    return [...(this.data.get(domain)?.keys() ?? [])];
  }
  names(domain = 'd'): string[] {
    return this.keys(domain).sort();
  }
  clone(): FakePreference {
    const copy = new FakePreference();
    for (const [domain, entries] of this.data) copy.data.set(domain, new Map(entries));
    return copy;
  }
  private mutate(): void {
    if (this.mutations >= this.cutAfter) throw new PowerCut('power cut');
    this.mutations++;
  }
}

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + seed) & 0xff);
}

const OPTIONS = { domain: 'd', chunkBytes: 100 };

describe('layout', () => {
  test('index name is "k" + 8 hex digits of FNV-1a over slot and key', () => {
    expect(indexName('device/small', 0)).toBe('k1994c72f');
    expect(indexName('device/small', 1)).toMatch(/^k[0-9a-f]{8}$/);
    expect(indexName('device/small', 1)).not.toBe(indexName('device/small', 0));
  });

  test('a 250-byte value is 3 chunks of at most 100 bytes plus an index written last', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, OPTIONS);
    const value = bytes(250, 1);
    store.set('device/blob', value);
    const index = indexName('device/blob', 0);
    expect(pref.names()).toEqual([index, `${index}a0`, `${index}a1`, `${index}a2`].sort());
    expect(pref.get('d', index)).toMatch(/^v1 a 3 250 [0-9a-f]{8} device\/blob$/);
    expect(new Uint8Array(pref.get('d', `${index}a2`) as ArrayBuffer)).toEqual(value.slice(200));
    expect(store.get('device/blob')).toEqual(value);
  });

  test('rewriting flips the generation and removes every chunk of the old one', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, OPTIONS);
    store.set('device/blob', bytes(250, 1));
    store.set('device/blob', bytes(120, 2));
    const index = indexName('device/blob', 0);
    expect(pref.names()).toEqual([index, `${index}b0`, `${index}b1`].sort());
    expect(store.get('device/blob')).toEqual(bytes(120, 2));
    store.set('device/blob', bytes(30, 3));
    expect(pref.names()).toEqual([index, `${index}a0`].sort());
  });

  test('an empty value has an index and no chunk', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, OPTIONS);
    store.set('e', new Uint8Array(0));
    expect(pref.names()).toEqual([indexName('e', 0)]);
    expect(store.get('e')).toEqual(new Uint8Array(0));
  });

  test('keys() lists our keys only; delete removes the index and all chunks', () => {
    const pref = new FakePreference();
    pref.set('d', 'foreign', 'x');
    const store = createChunkedStore(pref, OPTIONS);
    store.set('a/b', bytes(10, 1));
    store.set('c d', bytes(300, 2));
    expect(store.keys().sort()).toEqual(['a/b', 'c d']);
    store.delete('c d');
    expect(store.get('c d')).toBeUndefined();
    expect(store.keys()).toEqual(['a/b']);
    expect(pref.names()).toEqual(['foreign', indexName('a/b', 0), `${indexName('a/b', 0)}a0`].sort());
  });

  test('values are copies: changing the array after set or get does not change the store', () => {
    const store = createChunkedStore(new FakePreference(), OPTIONS);
    const value = bytes(50, 1);
    store.set('k', value);
    value[0] ^= 0xff;
    const read = store.get('k')!;
    read[1] ^= 0xff;
    expect(store.get('k')).toEqual(bytes(50, 1));
  });
});

describe('collisions and damage', () => {
  test('an index entry owned by another key moves the new key to the next slot', () => {
    const pref = new FakePreference();
    pref.set('d', indexName('mine', 0), 'v1 a 0 0 811c9dc5 someone-else');
    const store = createChunkedStore(pref, OPTIONS);
    store.set('mine', bytes(5, 1));
    expect(pref.get('d', indexName('mine', 1))).toMatch(/ mine$/);
    expect(store.get('mine')).toEqual(bytes(5, 1));
    expect(store.keys()).toEqual(['mine']);
  });

  test('a missing chunk is reported as damage naming the key, not returned as short data', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, OPTIONS);
    store.set('k', bytes(250, 1));
    pref.delete('d', `${indexName('k', 0)}a1`);
    expect(() => store.get('k')).toThrow('store: value of "k" is damaged (chunk 1 of 3 missing or wrong size)');
  });

  test('a flipped byte fails the checksum', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, OPTIONS);
    store.set('k', bytes(50, 1));
    const name = `${indexName('k', 0)}a0`;
    const chunk = new Uint8Array(pref.get('d', name) as ArrayBuffer);
    chunk[7] ^= 1;
    pref.set('d', name, chunk.buffer);
    expect(() => store.get('k')).toThrow('store: value of "k" is damaged (length or checksum does not match its index)');
  });

  test('a key too long for a 63-byte platform is refused before anything is written', () => {
    const pref = new FakePreference();
    const store = createChunkedStore(pref, { domain: 'd', chunkBytes: 63 });
    expect(() => store.set('x'.repeat(60), bytes(10, 1))).toThrow(/is too long for this platform's 63-byte preference values/);
    expect(pref.names()).toEqual([]);
  });

  test('a bad chunk size is refused at creation', () => {
    expect(() => createChunkedStore(new FakePreference(), { domain: 'd', chunkBytes: 0 })).toThrow('store: chunkBytes must be a positive integer, got 0');
  });
});

describe('power cut during set or delete', () => {
  const OLD = bytes(250, 1);
  const NEW = bytes(420, 9);

  function prepared(): FakePreference {
    const pref = new FakePreference();
    createChunkedStore(pref, OPTIONS).set('cfg', OLD);
    return pref;
  }

  test('after a cut at every possible write of a rewrite, the key holds the old or the new value', () => {
    const total = (() => {
      const pref = prepared();
      pref.mutations = 0;
      createChunkedStore(pref, OPTIONS).set('cfg', NEW);
      return pref.mutations;
    })();
    expect(total).toBe(5 + 1 + 3); // 5 new chunks, the index, 3 old chunks deleted

    const seen: string[] = [];
    for (let cut = 0; cut <= total; cut++) {
      const pref = prepared();
      pref.mutations = 0;
      pref.cutAfter = cut;
      try {
        createChunkedStore(pref, OPTIONS).set('cfg', NEW);
      } catch (error) {
        expect(error).toBeInstanceOf(PowerCut);
      }
      const rebooted = pref.clone();
      const value = createChunkedStore(rebooted, OPTIONS).get('cfg');
      seen.push(value && value.length === NEW.length ? 'new' : 'old');
      expect([OLD, NEW]).toContainEqual(value);
      // The next write after the reboot succeeds and leaves no stale chunk behind.
      createChunkedStore(rebooted, OPTIONS).set('cfg', bytes(30, 5));
      expect(rebooted.names().filter((n) => n.startsWith(indexName('cfg', 0)))).toHaveLength(2);
    }
    expect(seen.join(',')).toBe('old,old,old,old,old,old,new,new,new,new');
  });

  test('after a cut at every write of a delete, the key is either whole or gone', () => {
    for (let cut = 0; cut <= 4; cut++) {
      const pref = prepared();
      pref.mutations = 0;
      pref.cutAfter = cut;
      try {
        createChunkedStore(pref, OPTIONS).delete('cfg');
      } catch (error) {
        expect(error).toBeInstanceOf(PowerCut);
      }
      const value = createChunkedStore(pref.clone(), OPTIONS).get('cfg');
      // The index goes first: once it is gone the key is gone, whatever chunks the cut left behind.
      if (cut === 0) expect(value).toEqual(OLD);
      else expect(value).toBeUndefined();
    }
  });
});
