// One logging signature for the hub, DPS and CLI: the library stays silent unless given a logger.
export type EmulatorLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type EmulatorLog = (level: EmulatorLogLevel, message: string) => void;

export const silentLog: EmulatorLog = () => {};

/** Logs to stderr at or above `minimum`, with a subsystem prefix; used by the CLI. */
export function consoleLog(minimum: EmulatorLogLevel = 'info'): EmulatorLog {
  const rank: Record<EmulatorLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return (level, message) => {
    if (rank[level] >= rank[minimum]) process.stderr.write(`[${new Date().toISOString()}] ${level.padEnd(5)} ${message}\n`);
  };
}
