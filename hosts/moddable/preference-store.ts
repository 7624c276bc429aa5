// KeyValueStore on the "preference" module: the chunked, power-cut-safe layout of chunked-store.ts.
import Preference from 'preference';
import type { KeyValueStore } from '../../src/ports';
import { createChunkedStore } from './chunked-store';

export interface PreferenceStoreOptions {
  /** Preference domain; at most 15 characters for ESP32 NVS. */
  domain?: string;
  /**
   * Bytes per Preference value. 1024 suits ESP32 (NVS takes about 4000) and the simulator; use 63 on
   * ESP8266 and nRF52, whose Preference values are at most 63 bytes.
   */
  chunkBytes?: number;
}

export const DEFAULT_STORE_DOMAIN = 'azfw';
export const DEFAULT_CHUNK_BYTES = 1024;

export function createPreferenceStore(options: PreferenceStoreOptions = {}): KeyValueStore {
  return createChunkedStore(Preference, {
    domain: options.domain ?? DEFAULT_STORE_DOMAIN,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
  });
}
