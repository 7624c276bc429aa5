// KeyValueStore for Node, persisted in one file that is always either the old or the new version: each change
// rewrites the whole map into a temp file in the same folder, fsyncs it, renames it over the store and fsyncs
// the folder (so the rename itself survives a power cut). The file is one framed record with a CRC-32, so a
// torn or damaged file reads as empty with a logged reason instead of crashing the device at boot.
// One process at a time: two processes writing the same file would each replace the other's changes.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KeyValueStore, Logger } from '../../src/ports';
import { BodyReader, BodyWriter } from '../../src/storage/body-codec';
import { decodeRecord, encodeRecord, RecordKind, type RecordFault } from '../../src/storage/record';

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
}

const VERSION = 1;
const EXPECT = { kind: RecordKind.fileStore, versions: [VERSION] };

export class FileStore implements KeyValueStore {
  readonly path: string;
  /** Why the file read as empty when it existed but could not be used; undefined when it loaded (or was absent). */
  readonly loadFault: RecordFault | undefined;
  private readonly entries: Map<string, Uint8Array>;
  private readonly tempPath: string;
  private readonly logger: Logger | undefined;
  private readonly onWriteStep: ((step: FileStoreWriteStep) => void) | undefined;

  constructor(options: FileStoreOptions) {
    this.path = options.path;
    this.tempPath = join(dirname(options.path), `.${basename(options.path)}.tmp`);
    this.logger = options.logger;
    this.onWriteStep = options.onWriteStep;
    const loaded = loadEntries(this.path);
    this.entries = loaded.entries;
    this.loadFault = loaded.fault;
    if (loaded.fault) this.logger?.log('warn', `file store ${this.path} read as empty: ${loaded.fault.message}`);
  }

  get(key: string): Uint8Array | undefined {
    return this.entries.get(key)?.slice();
  }

  set(key: string, value: Uint8Array): void {
    const previous = this.entries.get(key);
    this.entries.set(key, value.slice());
    this.persistOrRevert(key, previous);
  }

  delete(key: string): void {
    const previous = this.entries.get(key);
    if (previous === undefined) return;
    this.entries.delete(key);
    this.persistOrRevert(key, previous);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Writes the map; if that fails before the rename, memory goes back to what the file still holds. */
  private persistOrRevert(key: string, previous: Uint8Array | undefined): void {
    let committed = false;
    try {
      this.persist(() => {
        committed = true;
      });
    } catch (error) {
      if (!committed) {
        if (previous === undefined) this.entries.delete(key);
        else this.entries.set(key, previous);
      }
      throw error;
    }
  }

  private persist(onRenamed: () => void): void {
    const bytes = encodeEntries(this.entries);
    const step = this.onWriteStep ?? (() => {});
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
  if (!record.ok) return { entries, fault: record.fault };
  const r = new BodyReader(record.body);
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
