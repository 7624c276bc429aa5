// Records whose body is UTF-8 JSON: small settings where readability in a dump beats a few bytes of flash.

import type { KeyValueStore } from '../ports';
import { utf8Decode, utf8Encode } from '../encoding/utf8';
import { decodeRecord, encodeRecord, recordFault, type RecordExpectation, type RecordFault } from './record';
import { errorText } from '../errors';
import { ok, type Result } from '../result';

export type JsonRecordRead = Result<unknown, RecordFault>;

export function encodeJsonRecord(kind: number, version: number, value: unknown): Uint8Array {
  return encodeRecord(kind, version, utf8Encode(JSON.stringify(value)));
}

export function readJsonRecord(store: KeyValueStore, key: string, expect: RecordExpectation): JsonRecordRead {
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

/** A plain object (not null, not an array), for shape checks on parsed JSON. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
