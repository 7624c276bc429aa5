// The Moddable host: every port in src/ports.ts on the Moddable SDK runtime (ESP32 boards, the simulator).
import type { HostPorts, LogLevel } from '../../src/ports';
import { createModdableClock } from './clock';
import { createModdableCrypto } from './crypto';
import { createModdableLogger } from './logger';
import { createPreferenceStore, type PreferenceStoreOptions } from './preference-store';
import { createModdableTimers } from './timers';
import { createModdableTransportFactory } from './transport';

export interface ModdableHostConfig {
  logLevel?: LogLevel;
  /** Put in front of every log line. */
  logPrefix?: string;
  store?: PreferenceStoreOptions;
  /** Wall-clock readings before this (Unix ms) count as "clock not set"; defaults to 2024-01-01. */
  clockFloorMs?: number;
  /** Used when a connect call gives no connectTimeoutMs; defaults to 30 s. */
  connectTimeoutMs?: number;
  /** Most bytes handed to the socket per run-loop turn; defaults to 8 KB. */
  writeBudgetBytes?: number;
}

export function createModdableHost(config: ModdableHostConfig = {}): HostPorts {
  const logger = createModdableLogger({ minLevel: config.logLevel, prefix: config.logPrefix });
  return {
    transport: createModdableTransportFactory({
      defaultConnectTimeoutMs: config.connectTimeoutMs,
      writeBudgetBytes: config.writeBudgetBytes,
      logger,
    }),
    timers: createModdableTimers(),
    clock: createModdableClock({ floorMs: config.clockFloorMs }),
    crypto: createModdableCrypto(),
    store: createPreferenceStore(config.store),
    logger,
  };
}
