// Logger port on trace(): the xsbug console on a device in a debug build, stdout in the simulator.
import type { LogLevel, Logger } from '../../src/ports';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface ModdableLoggerOptions {
  minLevel?: LogLevel;
  prefix?: string;
}

export function createModdableLogger(options: ModdableLoggerOptions = {}): Logger {
  const min = RANK[options.minLevel ?? 'info'];
  const prefix = options.prefix ? `${options.prefix} ` : '';
  return {
    log(level, message) {
      if (RANK[level] < min) return;
      trace(`${prefix}[${level}] ${message}\n`);
    },
  };
}
