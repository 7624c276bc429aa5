// KeyValueStore for Node, persisted in one file that is always either the old or the new version: each change
// rewrites the whole map into a temp file in the same folder, fsyncs it, renames it over the store and fsyncs
// the folder (so the rename itself survives a power cut). `batch()` makes several changes one such write.
// The file is one framed record with a CRC-32, so a torn or damaged file (or one that is not a store at all)
// reads as empty with a logged reason instead of crashing the device at boot. Such a file is never written
// over: before the first write it is kept aside, byte for byte, as `<name>.unreadable-<UTC time>`, and the
// fresh store takes its place; if it cannot be kept aside, writes fail instead.
// One process at a time: two processes writing the same file would each replace the other's changes.

import { closeSync, constants, copyFileSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KeyValueStore, Logger } from '../../src/ports';
import { BodyReader, BodyWriter } from '../../src/storage/body-codec';
import { decodeRecord, encodeRecord, RECORD_MAGIC, RecordKind, type RecordFault } from '../../src/storage/record';

/** The points of a write where a test can make the process "die". */
export type FileStoreWriteStep =
  | 'before-temp-write'
  | 'after-partial-temp-write'
  | 'after-temp-fsync'
  | 'before-rename'
  | 'after-rename';

export const FILE_STORE_WRITE_STEPS: readonly FileStoreWriteStep[] = [
  'before-temp-write',
  'after-partial-temp-write',
  'after-temp-fsync',
  'before-rename',
  'after-rename',
];

export interface FileStoreOptions {
  /** The store file; its folder must exist. */
  path: string;
  logger?: Logger;
  /** Test seam: called at each step of every write. Throwing stops the write right there, as a crash would. */
  onWriteStep?: (step: FileStoreWriteStep) => void;
  /** Test seam: the time that names a kept-aside unreadable file. */
  now?: () => Date;
}

const VERSION = 1;
const EXPECT = { kind: RecordKind.fileStore, versions: [VERSION] };

export class FileStore implements KeyValueStore {
  readonly path: string;
  /** Why the file read as empty when it existed but could not be used; undefined when it loaded (or was absent). */
  readonly loadFault: RecordFault | undefined;
  /** Where the unreadable file was kept, once the first write has moved it aside. */
  keptAsidePath: string | undefined;
  private readonly entries: Map<string, Uint8Array>;
  /** True while the file on disk is the unreadable one: it must be kept aside before anything replaces it. */
  private unreadableOnDisk: boolean;
  /** Depth of `batch()` calls: changes inside are written once, when the outermost one ends. */
  private batchDepth = 0;
  private readonly now: () => Date;
  private readonly tempPath: string;
  private readonly logger: Logger | undefined;
  private readonly onWriteStep: ((step: FileStoreWriteStep) => void) | undefined;

  constructor(options: FileStoreOptions) {
    this.path = options.path;
    this.tempPath = join(dirname(options.path), `.${basename(options.path)}.tmp`);
    this.logger = options.logger;
    this.onWriteStep = options.onWriteStep;
    this.now = options.now ?? (() => new Date());
    const loaded = loadEntries(this.path);
    this.entries = loaded.entries;
    this.loadFault = loaded.fault;
    this.unreadableOnDisk = loaded.fault !== undefined;
    if (loaded.fault) {
      this.logger?.log('warn', `file store ${this.path} read as empty: ${loaded.fault.message}; it is kept aside (not overwritten) at the first write`);
    }
  }

  get(key: string): Uint8Array | undefined {
    return this.entries.get(key)?.slice();
  }

  set(key: string, value: Uint8Array): void {
    this.change(() => void this.entries.set(key, value.slice()));
  }

  delete(key: string): void {
    if (!this.entries.has(key)) return;
    this.change(() => void this.entries.delete(key));
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Runs `changes` (sets and deletes on this store) and writes them all in one atomic write when it returns: after
   * a crash the file holds all of them or none. If `changes` throws, or the write fails before the rename, memory
   * goes back to what the file holds and nothing is written. Nested batches join the outermost one.
   */
  batch<T>(changes: () => T): T {
    if (this.batchDepth > 0) return changes();
    const before = new Map(this.entries);
    let committed = false;
    try {
      let result: T;
      this.batchDepth++;
      try {
        result = changes();
      } finally {
        this.batchDepth--;
      }
      this.persist(() => {
        committed = true;
      });
      return result;
    } catch (error) {
      if (!committed) this.restore(before);
      throw error;
    }
  }

  /** One change: written at once, or at the end of the batch it is part of. */
  private change(apply: () => void): void {
    if (this.batchDepth > 0) {
      apply();
      return;
    }
    this.batch(apply);
  }

  private restore(entries: Map<string, Uint8Array>): void {
    this.entries.clear();
    for (const [key, value] of entries) this.entries.set(key, value);
  }

  private persist(onRenamed: () => void): void {
    const bytes = encodeEntries(this.entries);
    const step = this.onWriteStep ?? (() => {});
    if (this.unreadableOnDisk) this.keepUnreadableAside();
    step('before-temp-write');
    // 0600: the store holds keys.
    const fd = openSync(this.tempPath, 'w', 0o600);
    try {
      const half = bytes.length >> 1;
      writeAll(fd, bytes.subarray(0, half));
      step('after-partial-temp-write');
      writeAll(fd, bytes.subarray(half));
      fsyncSync(fd);
      step('after-temp-fsync');
    } finally {
      closeSync(fd);
    }
    step('before-rename');
    renameSync(this.tempPath, this.path);
    onRenamed();
    step('after-rename');
    try {
      syncFolder(dirname(this.path));
    } catch (error) {
      // The new file is in place; only the durability of the rename across a power cut is in doubt.
      this.logger?.log('warn', `file store ${this.path}: could not fsync its folder (${(error as Error).message})`);
    }
  }

  /**
   * Gives the unreadable file a second name (a hard link: the same bytes, nothing copied), or copies it where
   * links are not possible, under a name no other file has. Throws, so nothing is written, when neither works.
   */
  private keepUnreadableAside(): void {
    const stamp = this.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let lastError: unknown;
    for (let n = 1; n <= 100; n++) {
      const candidate = `${this.path}.unreadable-${stamp}${n === 1 ? '' : `-${n}`}`;
      try {
        keepCopy(this.path, candidate);
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        break;
      }
      this.unreadableOnDisk = false;
      this.keptAsidePath = candidate;
      this.logger?.log('warn', `file store ${this.path} could not be read (${this.loadFault?.message ?? 'unknown reason'}); kept it as ${candidate}, byte for byte, and started a fresh store`);
      return;
    }
    if ((lastError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      // The unreadable file is gone already (removed by hand): nothing is lost by writing.
      this.unreadableOnDisk = false;
      return;
    }
    throw new Error(
      `the store file could not be read (${this.loadFault?.message ?? 'unknown reason'}) nor kept aside (${(lastError as Error | undefined)?.message ?? 'no free name'}); not writing over it`,
    );
  }
}

/** `to` gets the bytes of `from`; fails with EEXIST rather than replace a file already at `to`. */
function keepCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') throw error;
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    const fd = openSync(to, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  syncFolder(dirname(to));
}

/**
 * Why the file at `path` is not a store file, or undefined when it is one, is absent, or may be a store that is
 * damaged. Only the magic is compared: every store file starts with it, and a text or other file does not.
 */
export function notAStore(path: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
  for (let i = 0; i < Math.min(bytes.length, RECORD_MAGIC.length); i++) {
    if (bytes[i] !== RECORD_MAGIC[i]) return 'it does not start with the store header';
  }
  return undefined;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Body: u32 entry count, then per entry the key (UTF-8) and the value, each u32-length-prefixed. Keys sorted. */
export function encodeEntries(entries: Map<string, Uint8Array>): Uint8Array {
  const keys = [...entries.keys()].sort();
  const w = new BodyWriter().u32(keys.length);
  for (const key of keys) w.text(key).blob(entries.get(key)!);
  return encodeRecord(RecordKind.fileStore, VERSION, w.finish());
}

export function decodeEntries(bytes: Uint8Array): { entries: Map<string, Uint8Array>; fault?: RecordFault } {
  const entries = new Map<string, Uint8Array>();
  const record = decodeRecord(bytes, EXPECT);
  if (!record.ok) return { entries, fault: record.error };
  const r = new BodyReader(record.value.body);
  const count = r.u32();
  for (let i = 0; count !== undefined && i < count && !r.failed; i++) {
    const key = r.text();
    const value = r.blob();
    if (key !== undefined && value !== undefined) entries.set(key, value);
  }
  if (count === undefined || r.failed || !r.done) {
    return { entries: new Map(), fault: { code: 'bad-body', message: 'store entries do not match their count or lengths' } };
  }
  return { entries };
}

function loadEntries(path: string): { entries: Map<string, Uint8Array>; fault?: RecordFault } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: new Map() };
    return { entries: new Map(), fault: { code: 'missing', message: `cannot read the file (${(error as Error).message})` } };
  }
  return decodeEntries(bytes);
}
