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

export interface LogLine {
  at: string;
  level: EmulatorLogLevel;
  message: string;
}

/** Keeps the last lines a log wrote and tells listeners (the explorer page's log pane); `tee` wraps a logger. */
export class LogFeed {
  private readonly lines: LogLine[] = [];
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(private readonly keep = 300) {}

  /** A logger that writes to `next` and records the line here. */
  tee(next: EmulatorLog = silentLog): EmulatorLog {
    return (level, message) => {
      next(level, message);
      this.push(level, message);
    };
  }

  push(level: EmulatorLogLevel, message: string): void {
    const line = { at: new Date().toISOString(), level, message };
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    for (const listener of this.listeners) listener(line);
  }

  recent(): LogLine[] {
    return this.lines.slice();
  }

  on(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
