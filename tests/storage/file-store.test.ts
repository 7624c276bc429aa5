import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_STORE_WRITE_STEPS, FileStore, notAStore, type FileStoreWriteStep } from '../../hosts/node/file-store';
import { SecurityTagStore } from '../../src/storage/security-tag-store';
import { AssignmentStore } from '../../src/storage/assignment-store';
import type { LogLevel } from '../../src/ports';
import { seededRandom } from '../helpers/seeded-random';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (...values: number[]) => new Uint8Array(values);
const snapshot = (store: FileStore) => Object.fromEntries(store.keys().sort().map((k) => [k, Array.from(store.get(k)!)]));

class Crash extends Error {}

function crashAt(step: FileStoreWriteStep) {
  return (at: FileStoreWriteStep) => {
    if (at === step) throw new Crash(`power cut ${step}`);
  };
}

function recorder() {
  const lines: string[] = [];
  return { lines, logger: { log: (level: LogLevel, message: string) => void lines.push(`${level} ${message}`) } };
}

describe('file store basics', () => {
  test('values persist across instances; a missing file is an empty store with no fault', () => {
    const path = join(dir, 'store.bin');
    const first = new FileStore({ path });
    expect(first.keys()).toEqual([]);
    expect(first.loadFault).toBeUndefined();
    first.set('a', bytes(1, 2, 3));
    first.set('b', new Uint8Array(0));
    first.set('a', bytes(4));
    first.delete('missing');
    const second = new FileStore({ path });
    expect(snapshot(second)).toEqual({ a: [4], b: [] });
    second.delete('a');
    expect(snapshot(new FileStore({ path }))).toEqual({ b: [] });
  });

  test('the file is private to its owner and no temp file is left behind', () => {
    const path = join(dir, 'store.bin');
    new FileStore({ path }).set('k', bytes(1));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['store.bin']);
  });

  test('values are copied in and out', () => {
    const store = new FileStore({ path: join(dir, 's') });
    const value = bytes(1, 2);
    store.set('k', value);
    value[0] = 9;
    store.get('k')![1] = 9;
    expect(store.get('k')).toEqual(bytes(1, 2));
  });
});

describe('a crash at each step of a write leaves the old or the new content, readable', () => {
  test.each(FILE_STORE_WRITE_STEPS.map((s) => [s]))('%s', (step) => {
    const path = join(dir, 'store.bin');
    new FileStore({ path }).set('assignment', bytes(1, 1, 1));
    const dying = new FileStore({ path, onWriteStep: crashAt(step) });
    expect(() => dying.set('assignment', bytes(2, 2, 2, 2))).toThrow(Crash);
    const expected = step === 'after-rename' ? [2, 2, 2, 2] : [1, 1, 1];
    const rebooted = new FileStore({ path });
    expect(rebooted.loadFault).toBeUndefined();
    expect(snapshot(rebooted)).toEqual({ assignment: expected });
    // The next write succeeds over whatever temp file the crash left.
    rebooted.set('assignment', bytes(3));
    expect(snapshot(new FileStore({ path }))).toEqual({ assignment: [3] });
  });

  test('a failed write puts memory back to what the file holds', () => {
    const path = join(dir, 'store.bin');
    new FileStore({ path }).set('k', bytes(1));
    const store = new FileStore({ path, onWriteStep: crashAt('before-rename') });
    expect(() => store.set('k', bytes(2))).toThrow(Crash);
    expect(() => store.set('new', bytes(2))).toThrow(Crash);
    expect(() => store.delete('k')).toThrow(Crash);
    expect(snapshot(store)).toEqual({ k: [1] });
  });

  test('once the rename is done, memory keeps the new value even if a later step fails', () => {
    const path = join(dir, 'store.bin');
    const store = new FileStore({ path, onWriteStep: crashAt('after-rename') });
    expect(() => store.set('k', bytes(2))).toThrow(Crash);
    expect(snapshot(store)).toEqual({ k: [2] });
  });

  test('a crash before the first file exists leaves no store: empty, no fault', () => {
    const path = join(dir, 'store.bin');
    expect(() => new FileStore({ path, onWriteStep: crashAt('after-partial-temp-write') }).set('k', bytes(1))).toThrow(Crash);
    const rebooted = new FileStore({ path });
    expect(rebooted.keys()).toEqual([]);
    expect(rebooted.loadFault).toBeUndefined();
  });
});

describe('a damaged store file reads as empty with a logged reason, never a crash', () => {
  function smallStoreFile(): { path: string; good: Uint8Array } {
    const path = join(dir, 'store.bin');
    const store = new FileStore({ path });
    store.set('tag.1', bytes(0xaa, 0xbb));
    store.set('x', bytes(7));
    return { path, good: new Uint8Array(readFileSync(path)) };
  }

  test('every byte flipped, one position at a time', () => {
    const { path, good } = smallStoreFile();
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      writeFileSync(path, bad);
      const log = recorder();
      const store = new FileStore({ path, logger: log.logger });
      expect([i, store.keys()]).toEqual([i, []]);
      expect(store.loadFault).toBeDefined();
      expect(log.lines).toEqual([`warn file store ${path} read as empty: ${store.loadFault!.message}; it is kept aside (not overwritten) at the first write`]);
    }
  });

  test('every truncation', () => {
    const { path, good } = smallStoreFile();
    for (let n = 0; n < good.length; n++) {
      writeFileSync(path, good.subarray(0, n));
      const store = new FileStore({ path });
      expect([n, store.keys(), store.loadFault?.code]).toEqual([n, [], 'truncated']);
    }
  });

  test('a folder where the file should be reads as empty with the reason', () => {
    const log = recorder();
    const store = new FileStore({ path: dir, logger: log.logger });
    expect(store.keys()).toEqual([]);
    expect(store.loadFault?.message).toMatch(/^cannot read the file \(EISDIR/);
  });

  test('after a damaged load, the next write replaces the file with a good one', () => {
    const { path } = smallStoreFile();
    writeFileSync(path, 'garbage that is long enough to hold a frame');
    const store = new FileStore({ path });
    expect(store.loadFault?.code).toBe('bad-magic');
    store.set('k', bytes(5));
    expect(snapshot(new FileStore({ path }))).toEqual({ k: [5] });
  });
});

describe('a file that cannot be read as a store is kept aside byte for byte, never overwritten', () => {
  const at = new Date('2026-12-02T00:46:30.123Z');
  const kept = (path: string, suffix = '') => `${path}.unreadable-20261202T004630Z${suffix}`;

  function damagedStore(path: string): Uint8Array {
    const store = new FileStore({ path });
    store.set('device.config', bytes(1, 2, 3));
    store.set('tag.10', bytes(4, 5, 6));
    const damaged = new Uint8Array(readFileSync(path));
    damaged[7] ^= 0x01; // one byte of the outer frame (its length): the whole store reads as empty
    writeFileSync(path, damaged);
    return damaged;
  }

  test.each([
    ['a store with one damaged byte in its frame', (path: string) => damagedStore(path)],
    ['a foreign text file', (path: string) => {
      const text = new TextEncoder().encode('precious notes\nline two\n');
      writeFileSync(path, text);
      return text;
    }],
  ])('%s: kept as <name>.unreadable-<time>, and a fresh store beside it', (_, make) => {
    const path = join(dir, 'store.bin');
    const original = make(path);
    const log = recorder();
    const store = new FileStore({ path, logger: log.logger, now: () => at });
    expect(store.keys()).toEqual([]);
    expect(store.loadFault).toBeDefined();
    // Reading alone moves nothing.
    expect(readdirSync(dir)).toEqual(['store.bin']);

    store.set('dps.assignment', bytes(9));
    expect(store.keptAsidePath).toBe(kept(path));
    expect(new Uint8Array(readFileSync(kept(path)))).toEqual(original);
    expect(snapshot(new FileStore({ path }))).toEqual({ 'dps.assignment': [9] });
    expect(readdirSync(dir).sort()).toEqual(['store.bin', 'store.bin.unreadable-20261202T004630Z']);
    expect(log.lines[1]).toBe(
      `warn file store ${path} could not be read (${store.loadFault!.message}); kept it as ${kept(path)}, byte for byte, and started a fresh store`,
    );
    // Later writes replace only the fresh store.
    store.set('dps.assignment', bytes(10));
    expect(new Uint8Array(readFileSync(kept(path)))).toEqual(original);
  });

  test('a name already taken is never overwritten: the next free one is used', () => {
    const path = join(dir, 'store.bin');
    writeFileSync(kept(path), 'an earlier backup');
    const original = damagedStore(path);
    const store = new FileStore({ path, now: () => at });
    store.set('k', bytes(1));
    expect(readFileSync(kept(path), 'utf8')).toBe('an earlier backup');
    expect(new Uint8Array(readFileSync(kept(path, '-2')))).toEqual(original);
  });

  test('a crash during the first write after the move leaves the backup and a readable store', () => {
    const path = join(dir, 'store.bin');
    const original = damagedStore(path);
    const dying = new FileStore({ path, now: () => at, onWriteStep: crashAt('before-rename') });
    expect(() => dying.set('k', bytes(1))).toThrow(Crash);
    expect(new Uint8Array(readFileSync(kept(path)))).toEqual(original);
    const rebooted = new FileStore({ path, now: () => at });
    rebooted.set('k', bytes(2));
    // The damaged file was already kept: a second copy under the next name, the first untouched.
    expect(new Uint8Array(readFileSync(kept(path)))).toEqual(original);
    expect(snapshot(new FileStore({ path }))).toEqual({ k: [2] });
  });

  test('when the file cannot be kept aside, writes fail and it is left as it was', () => {
    // A folder where the store should be: it can be neither linked nor copied.
    const path = join(dir, 'store.bin');
    mkdirSync(path);
    writeFileSync(join(path, 'inside.txt'), 'keep me');
    const store = new FileStore({ path });
    expect(() => store.set('k', bytes(1))).toThrow(/^the store file could not be read \(cannot read the file \(EISDIR.*\) nor kept aside \(.*\); not writing over it$/);
    expect(store.keys()).toEqual([]);
    expect(readFileSync(join(path, 'inside.txt'), 'utf8')).toBe('keep me');
    expect(readdirSync(dir)).toEqual(['store.bin']);
  });

  test('notAStore tells a foreign file from a store, damaged or not', () => {
    const path = join(dir, 'store.bin');
    expect(notAStore(path)).toBeUndefined(); // absent
    damagedStore(path);
    expect(notAStore(path)).toBeUndefined();
    writeFileSync(path, 'hello');
    expect(notAStore(path)).toBe('it does not start with the store header');
    writeFileSync(path, 'IoT');
    expect(notAStore(path)).toBeUndefined(); // could be a truncated store
    writeFileSync(path, new Uint8Array(0));
    expect(notAStore(path)).toBeUndefined(); // nothing to lose
  });
});

describe('batch: several changes in one atomic write', () => {
  test('the changes are written once, together', () => {
    const path = join(dir, 'store.bin');
    const writes: FileStoreWriteStep[] = [];
    const store = new FileStore({ path, onWriteStep: (step) => void writes.push(step) });
    store.set('old', bytes(0));
    writes.length = 0;
    const result = store.batch(() => {
      store.set('a', bytes(1));
      store.set('b', bytes(2));
      store.delete('old');
      return 'done';
    });
    expect(result).toBe('done');
    expect(writes.filter((s) => s === 'before-temp-write')).toHaveLength(1);
    expect(snapshot(new FileStore({ path }))).toEqual({ a: [1], b: [2] });
  });

  test.each(FILE_STORE_WRITE_STEPS.map((s) => [s]))('a crash at %s leaves all the changes or none', (step) => {
    const path = join(dir, 'store.bin');
    const first = new FileStore({ path });
    first.batch(() => {
      first.set('config', bytes(1));
      first.set('key', bytes(1));
    });
    const dying = new FileStore({ path, onWriteStep: crashAt(step) });
    expect(() =>
      dying.batch(() => {
        dying.set('config', bytes(2));
        dying.set('key', bytes(2));
      }),
    ).toThrow(Crash);
    const expected = step === 'after-rename' ? 2 : 1;
    expect(snapshot(new FileStore({ path }))).toEqual({ config: [expected], key: [expected] });
  });

  test('a batch that throws writes nothing and puts memory back', () => {
    const path = join(dir, 'store.bin');
    const store = new FileStore({ path });
    store.set('k', bytes(1));
    expect(() =>
      store.batch(() => {
        store.set('k', bytes(2));
        store.set('other', bytes(2));
        throw new Error('input refused half way');
      }),
    ).toThrow('input refused half way');
    expect(snapshot(store)).toEqual({ k: [1] });
    expect(snapshot(new FileStore({ path }))).toEqual({ k: [1] });
    store.set('k', bytes(3)); // not stuck inside the failed batch
    expect(snapshot(new FileStore({ path }))).toEqual({ k: [3] });
  });

  test('a nested batch joins the outer one', () => {
    const path = join(dir, 'store.bin');
    let writes = 0;
    const store = new FileStore({ path, onWriteStep: (step) => void (step === 'before-temp-write' && writes++) });
    store.batch(() => {
      store.set('a', bytes(1));
      store.batch(() => store.set('b', bytes(2)));
      expect(writes).toBe(0);
    });
    expect(writes).toBe(1);
  });
});

describe('records survive a restart', () => {
  test('security tags and the assignment, through a new FileStore over the same path', () => {
    const path = join(dir, 'device.store');
    const key = new Uint8Array(32).map((_, i) => i);
    const dps = { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: '0ne1', registrationId: 'r1', attestation: 'symmetric-key' as const };
    const before = new FileStore({ path });
    expect(new SecurityTagStore(before).write(10, { symmetricKey: key })).toEqual({ ok: true });
    expect(new AssignmentStore(before).save({ hubHost: 'h.azure-devices.net', deviceId: 'r1', dps })).toEqual({ ok: true });

    const after = new FileStore({ path });
    expect(new SecurityTagStore(after).readPart(10, 'symmetricKey')).toEqual(key);
    expect(new AssignmentStore(after).load(dps)).toMatchObject({ status: 'assigned', assignment: { hubHost: 'h.azure-devices.net' } });
  });

  test('a crashed tag write surfaces as write-failed and the old tag is still there after reboot', () => {
    const path = join(dir, 'device.store');
    new SecurityTagStore(new FileStore({ path })).write(10, { symmetricKey: bytes(1) });
    const result = new SecurityTagStore(new FileStore({ path, onWriteStep: crashAt('after-temp-fsync') })).write(10, { symmetricKey: bytes(2) });
    expect(result).toEqual({ ok: false, error: { code: 'write-failed', message: 'writing tag.10 failed: power cut after-temp-fsync' } });
    expect(new SecurityTagStore(new FileStore({ path })).readPart(10, 'symmetricKey')).toEqual(bytes(1));
  });
});

const SEED = Number(process.env.FILE_STORE_SEED ?? Date.now() % 1_000_000_007);

describe('random writes with power cuts', () => {
  test(`300 random operations, a third of them cut at a random step (seed ${SEED}; rerun with FILE_STORE_SEED=${SEED})`, () => {
    const random = seededRandom(SEED);
    const path = join(dir, 'fuzz.store');
    const model = new Map<string, number[]>();
    let store = new FileStore({ path });
    let cut: FileStoreWriteStep | undefined;
    const view = () => Object.fromEntries([...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    for (let i = 0; i < 300; i++) {
      const key = `k${Math.floor(random() * 6)}`;
      const deleting = random() < 0.25;
      const value = Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      cut = random() < 0.33 ? FILE_STORE_WRITE_STEPS[Math.floor(random() * FILE_STORE_WRITE_STEPS.length)] : undefined;
      store = new FileStore({ path, onWriteStep: cut ? crashAt(cut) : undefined });
      const changes = deleting ? model.has(key) : true;
      let crashed = false;
      try {
        if (deleting) store.delete(key);
        else store.set(key, new Uint8Array(value));
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
        crashed = true;
      }
      expect([SEED, i, crashed]).toEqual([SEED, i, cut !== undefined && changes]);
      // The write took effect unless it was cut before the rename.
      const tookEffect = !crashed || cut === 'after-rename';
      if (tookEffect) {
        if (deleting) model.delete(key);
        else model.set(key, value);
      }
      if (crashed || random() < 0.2) {
        const rebooted = new FileStore({ path });
        expect([SEED, i, rebooted.loadFault]).toEqual([SEED, i, undefined]);
        expect([SEED, i, snapshot(rebooted)]).toEqual([SEED, i, view()]);
      }
    }
    expect(snapshot(new FileStore({ path }))).toEqual(view());
  });
});
