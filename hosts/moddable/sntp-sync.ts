// Sets the system clock from SNTP before anything needs the date (TLS certificate dates, SAS token expiry).
// The SDK's SNTP client asks one server, retries, and on failure lets us name the next one; we add an overall
// deadline so a board without a route to any server gets a clear failure instead of waiting forever.
import SNTP from 'sntp';
import { errorText } from '../../src/errors';
import { err, ok, type Result } from '../../src/result';
import Time from 'time';
import Timer from 'timer';

export interface SntpSyncOptions {
  /** Tried in order; defaults to pool.ntp.org. */
  hosts?: string[];
  /** Give up after this long in all (the SDK retries a silent server every 5 s, 5 times). */
  timeoutMs?: number;
  /** Set the system clock with Time.set (default true; a no-op on the Linux simulator). */
  setClock?: boolean;
}

/** The server that answered and the time it gave, or what went wrong. */
export type SntpSyncResult = Result<{ host: string; unixSeconds: number }, string>;

export interface SntpSync {
  cancel(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function syncClockWithSntp(options: SntpSyncOptions, done: (result: SntpSyncResult) => void): SntpSync {
  const hosts = options.hosts && options.hosts.length > 0 ? options.hosts : ['pool.ntp.org'];
  let next = 1;
  let current = hosts[0];
  let finished = false;
  const failures: string[] = [];
  let client: unknown;

  const end = (result: SntpSyncResult): void => {
    if (finished) return;
    finished = true;
    Timer.clear(deadline);
    done(result);
  };

  const stop = (): void => {
    // The SDK's typings omit close(), which SNTP inherits from Socket.
    const closable = client as { close?: () => void } | undefined;
    try {
      closable?.close?.();
    } catch {
      // Already closed itself.
    }
  };

  const deadline = Timer.set(() => {
    stop();
    end(err(`no SNTP answer within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms (${[...failures, `${current}: no answer yet`].join('; ')})`));
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  try {
    client = new SNTP({ host: current }, (message: number, value?: number | string): string | undefined => {
      if (finished) return undefined;
      if (message === SNTP.time && typeof value === 'number') {
        if (options.setClock !== false) Time.set(value);
        end(ok({ host: current, unixSeconds: value }));
        return undefined;
      }
      if (message === SNTP.error) {
        failures.push(`${current}: ${String(value)}`);
        if (next < hosts.length) {
          current = hosts[next++];
          return current;
        }
        end(err(`SNTP failed (${failures.join('; ')})`));
      }
      return undefined;
    });
  } catch (error) {
    Timer.set(() => end(err(`cannot start SNTP: ${errorText(error)}`)));
  }

  return {
    cancel() {
      if (finished) return;
      finished = true;
      Timer.clear(deadline);
      stop();
    },
  };
}
