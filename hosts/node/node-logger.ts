// Logger port: one line per message to stderr (or a given sink), dropping anything below the minimum level.
import type { LogLevel, Logger } from '../../src/ports';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface NodeLoggerOptions {
  minLevel?: LogLevel;
  /** Put in front of every line, e.g. the device id when several devices share a process. */
  prefix?: string;
  /** Where lines go; stderr by default so stdout stays free for program output. */
  write?: (line: string) => void;
  /** Adds an ISO timestamp to each line. */
  timestamps?: boolean;
}

export function createNodeLogger(options: NodeLoggerOptions = {}): Logger {
  const min = RANK[options.minLevel ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const prefix = options.prefix ? `${options.prefix} ` : '';
  return {
    log(level, message) {
      if (RANK[level] < min) return;
      const time = options.timestamps ? `${new Date().toISOString()} ` : '';
      write(`${time}${prefix}[${level}] ${message}`);
    },
  };
}
