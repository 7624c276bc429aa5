// The synchronous ports answered entirely by the Node side: wall clock, crypto, logger and key-value store.
import type { CryptoPort, KeyValueStore, Logger, WallClock } from '../../src/ports';
import type { BridgeClient } from './bridge-client';

export function bridgedClock(bridge: BridgeClient): WallClock {
  return { unixMs: () => bridge.request({ op: 'unix-ms' }).ms };
}

export function bridgedCrypto(bridge: BridgeClient): CryptoPort {
  return {
    hmacSha256: (key, data) => bridge.request({ op: 'hmac-sha256', key, data }).bytes,
    randomBytes: (length) => bridge.request({ op: 'random-bytes', length }).bytes,
  };
}

export function bridgedLogger(bridge: BridgeClient): Logger {
  return { log: (level, message) => void bridge.request({ op: 'log', level, message }) };
}

export function bridgedStore(bridge: BridgeClient): KeyValueStore {
  return {
    get: (key) => bridge.request({ op: 'store-get', key }).value,
    set: (key, value) => void bridge.request({ op: 'store-set', key, value }),
    delete: (key) => void bridge.request({ op: 'store-delete', key }),
    keys: () => bridge.request({ op: 'store-keys' }).keys,
  };
}
