// KeyValueStore in memory, for tests. Values are copied in and out so a caller mutating its array cannot
// change what is "on flash", just as with a real store.
import type { KeyValueStore } from '../../src/ports';

export function createMemoryStore(initial: Record<string, Uint8Array> = {}): KeyValueStore {
  const entries = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(initial)) entries.set(key, value.slice());
  return {
    get: (key) => entries.get(key)?.slice(),
    set: (key, value) => void entries.set(key, value.slice()),
    delete: (key) => void entries.delete(key),
    keys: () => [...entries.keys()],
  };
}
