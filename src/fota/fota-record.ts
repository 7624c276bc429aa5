// How far an update got, in one CRC-framed record (key "fota") so a power cut at any moment leaves a state the next
// boot can continue from. The store's `set` is atomic: the record is the old one or the new one.
//   downloading: `offset` bytes are in the slot and hashed (`hash` is the saved SHA-256 state)
//   verified:    every byte is in the slot, the digest matched, the slot is finished but not yet activated
//   installed:   activated; the next boot runs the new image and confirms it
//   current / failed: the job is over (so the same desired twin after a reconnect is not done again)

import type { KeyValueStore } from '../ports';
import { JsonRecordSlot, isObject } from '../storage/json-record';
import { RecordKind } from '../storage/record';
import type { StorageWrite } from '../storage/storage-result';
import type { FotaError } from './fota-error';

export type FotaPhase = 'downloading' | 'verified' | 'installed' | 'current' | 'failed';

export interface FotaRecord {
  phase: FotaPhase;
  jobId: string;
  version: string;
  sha256: string;
  size: number;
  /** downloading: bytes stored and hashed. */
  offset?: number;
  /** downloading: the SHA-256 state after `offset` bytes, base64. */
  hash?: string;
  /** installed: the version that ran before, to tell a rollback. */
  previous?: string;
  error?: FotaError;
  /** The desired $version the job answers, so the acknowledgement after a reboot carries it. */
  ackVersion?: number;
}

export const FOTA_RECORD_KEY = 'fota';

export class FotaRecordStore {
  private readonly slot: JsonRecordSlot;

  constructor(store: KeyValueStore) {
    this.slot = new JsonRecordSlot(store, FOTA_RECORD_KEY, RecordKind.fotaProgress, 1);
  }

  /** The stored record; undefined when there is none or it is damaged (a damaged record counts as no progress). */
  read(): FotaRecord | undefined {
    const read = this.slot.read();
    if (!read.ok || !isObject(read.value)) return undefined;
    const r = read.value;
    const phases: readonly string[] = ['downloading', 'verified', 'installed', 'current', 'failed'];
    if (typeof r['phase'] !== 'string' || !phases.includes(r['phase'])) return undefined;
    if (typeof r['jobId'] !== 'string' || typeof r['version'] !== 'string' || typeof r['sha256'] !== 'string' || typeof r['size'] !== 'number') return undefined;
    return r as unknown as FotaRecord;
  }

  write(record: FotaRecord): StorageWrite {
    return this.slot.write(record);
  }
}
