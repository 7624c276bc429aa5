// Ctrl-C and SIGTERM for the Node command lines (the device, `npm start`). One Ctrl-C usually arrives more than
// once: the terminal signals the whole process group, and npm (and tsx, when it wraps the process) forward the
// same signal to their child. Repeats soon after the first are therefore that same request, not a second one;
// only a repeat after `sameRequestMs` means "stop now, do not wait". The listeners stay until disposed, so no
// repeat ever falls through to Node's default (death by the signal, exit 130 in the shell).

export const SAME_REQUEST_MS = 1000;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface StopSignalHandlers {
  /** The first signal: stop cleanly. */
  stop(signal: StopSignal): void;
  /** A signal well after the first, while still stopping: the user insists. */
  force(signal: StopSignal): void;
}

export interface StopSignalOptions {
  sameRequestMs?: number;
  /** Milliseconds, for telling repeats apart; Date.now by default. */
  now?: () => number;
  /** Where the listeners go; the process by default. */
  target?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Installs the listeners; returns what removes them. */
export function handleStopSignals(handlers: StopSignalHandlers, options: StopSignalOptions = {}): () => void {
  const window = options.sameRequestMs ?? SAME_REQUEST_MS;
  const now = options.now ?? Date.now;
  const target = options.target ?? process;
  let firstAt: number | undefined;
  let forced = false;
  const listener = (signal: StopSignal): void => {
    if (firstAt === undefined) {
      firstAt = now();
      handlers.stop(signal);
      return;
    }
    if (forced || now() - firstAt < window) return;
    forced = true;
    handlers.force(signal);
  };
  target.on('SIGINT', listener);
  target.on('SIGTERM', listener);
  return () => {
    target.off('SIGINT', listener);
    target.off('SIGTERM', listener);
  };
}
