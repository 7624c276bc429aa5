// What a storage write reports. Stores on flash can fail (full partition, worn sector); the KeyValueStore port
// throws then, and the record stores turn that into a value so a failed save never unwinds a state machine.

import type { KeyValueStore } from '../ports';
import { errorText } from '../errors';
import { err, ok, type Result } from '../result';

export type StorageErrorCode =
  /** The value to store is incomplete or out of range; `field` names it. */
  | 'invalid-field'
  /** The host store refused the write or the delete. */
  | 'write-failed';

export interface StorageError {
  code: StorageErrorCode;
  field?: string;
  /** Names the problem, never a stored secret. */
  message: string;
}

/** A write that succeeded carries nothing. */
export type StorageWrite = Result<undefined, StorageError>;

export const WRITTEN: StorageWrite = ok(undefined);

export function invalidField(field: string, problem: string): { ok: false; error: StorageError } {
  return err({ code: 'invalid-field', field, message: `${field} ${problem}` });
}

export function guardedSet(store: KeyValueStore, key: string, value: Uint8Array): StorageWrite {
  try {
    store.set(key, value);
    return WRITTEN;
  } catch (error) {
    return writeFailed(`writing ${key}`, error);
  }
}

export function guardedDelete(store: KeyValueStore, key: string): StorageWrite {
  try {
    store.delete(key);
    return WRITTEN;
  } catch (error) {
    return writeFailed(`deleting ${key}`, error);
  }
}

function writeFailed(what: string, error: unknown): StorageWrite {
  const detail = errorText(error);
  return err({ code: 'write-failed', message: `${what} failed: ${detail}` });
}
