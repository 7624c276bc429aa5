// Records whose body is UTF-8 JSON: small settings where readability in a dump beats a few bytes of flash.

import type { KeyValueStore } from '../ports';
import { utf8Decode, utf8Encode } from '../encoding/utf8';
import { decodeRecord, encodeRecord, recordFault, type RecordExpectation, type RecordFault } from './record';
import { errorText } from '../errors';
import { ok, type Result } from '../result';
import { guardedDelete, guardedSet, type StorageWrite } from './storage-result';

export type JsonRecordRead = Result<unknown, RecordFault>;

function encodeJsonRecord(kind: number, version: number, value: unknown): Uint8Array {
  return encodeRecord(kind, version, utf8Encode(JSON.stringify(value)));
}

function readJsonRecord(store: KeyValueStore, key: string, expect: RecordExpectation): JsonRecordRead {
  let stored: Uint8Array | undefined;
  try {
    stored = store.get(key);
  } catch (error) {
    return recordFault('missing', `reading ${key} failed: ${errorText(error)}`);
  }
  const record = decodeRecord(stored, expect);
  if (!record.ok) return record;
  const text = utf8Decode(record.value.body);
  if (text === undefined) return recordFault('bad-body', `${key} is not UTF-8`);
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return recordFault('bad-body', `${key} is not JSON`);
  }
}

/** One JSON record under one key at one format version: what the assignment and configuration stores share. */
export class JsonRecordSlot {
  private readonly expect: RecordExpectation;

  constructor(
    private readonly store: KeyValueStore,
    readonly key: string,
    private readonly kind: number,
    private readonly version: number,
  ) {
    this.expect = { kind, versions: [version] };
  }

  read(): JsonRecordRead {
    return readJsonRecord(this.store, this.key, this.expect);
  }

  /** Replaces the record in one write. */
  write(value: unknown): StorageWrite {
    return guardedSet(this.store, this.key, encodeJsonRecord(this.kind, this.version, value));
  }

  remove(): StorageWrite {
    return guardedDelete(this.store, this.key);
  }
}

/** A plain object (not null, not an array), for shape checks on parsed JSON. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
