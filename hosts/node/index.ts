// The Node host: every port in src/ports.ts on Node, for tests, the emulator and desktop runs.
import type { HostPorts, KeyValueStore, LogLevel } from '../../src/ports';
import { createNodeTlsTransportFactory, type NodeTlsTransportSettings } from './node-tls-transport';
import { createNodeTimers } from './node-timers';
import { createNodeClock } from './node-clock';
import { createNodeCrypto } from './node-crypto';
import { createNodeLogger, type NodeLoggerOptions } from './node-logger';
import { createMemoryStore } from './memory-store';

export interface NodeHostOptions {
  transport?: NodeTlsTransportSettings;
  /** Start as a device whose clock has not been set yet. */
  clockNotSet?: boolean;
  /** Defaults to an in-memory store (nothing survives the process). */
  store?: KeyValueStore;
  logLevel?: LogLevel;
  logger?: Omit<NodeLoggerOptions, 'minLevel'>;
}

export function createNodeHost(options: NodeHostOptions = {}): HostPorts {
  return {
    transport: createNodeTlsTransportFactory(options.transport),
    timers: createNodeTimers(),
    clock: createNodeClock({ notSet: options.clockNotSet }),
    crypto: createNodeCrypto(),
    store: options.store ?? createMemoryStore(),
    logger: createNodeLogger({ ...options.logger, minLevel: options.logLevel }),
  };
}

export { createNodeTlsTransportFactory } from './node-tls-transport';
export type { NodeTlsTransportSettings } from './node-tls-transport';
export { createNodeTimers } from './node-timers';
export { createNodeClock } from './node-clock';
export type { NodeWallClock } from './node-clock';
export { createNodeCrypto } from './node-crypto';
export { createNodeLogger } from './node-logger';
export type { NodeLoggerOptions } from './node-logger';
export { createMemoryStore } from './memory-store';
