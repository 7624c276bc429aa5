// The explorer test bed: an in-memory emulator with its control server serving the page, the firmware on the
// Node host as the device (a connection string, telemetry every second), and the device's log lines kept.
import { Emulator } from '../../emulator/src/emulator';
import { LogFeed } from '../../emulator/src/log';
import { startControlServer, type ControlServer } from '../../emulator/src/control/control-server';
import { buildExplorerScript } from '../../emulator/explorer/build';
import { startNodeFirmware, type NodeFirmware } from '../../hosts/node/main-node';
import { testTls } from '../emulator/hub-fixture';

export interface ExplorerBed {
  emulator: Emulator;
  control: ControlServer;
  url: string;
  logFeed: LogFeed;
  stop(): Promise<void>;
}

let script: Promise<string> | undefined;

export async function startExplorerBed(): Promise<ExplorerBed> {
  script ??= buildExplorerScript();
  const logFeed = new LogFeed();
  const emulator = await Emulator.start({ persist: false, tls: testTls(), log: logFeed.tee() });
  const control = await startControlServer(emulator, { explorer: { script: await script }, logFeed });
  return {
    emulator,
    control,
    url: control.explorerUrl!,
    logFeed,
    stop: async () => {
      await control.close();
      await emulator.stop();
    },
  };
}

export interface TestDevice {
  firmware: NodeFirmware;
  lines: string[];
  /** Resolves with the first device log line (since the call or, with `past`, ever) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number, past?: boolean): Promise<string>;
  stop(): Promise<void>;
}

export function startDevice(emulator: Emulator, deviceId: string, telemetryIntervalMs = 1000): TestDevice {
  if (!emulator.registry.getDevice(deviceId)) emulator.addDevice(deviceId);
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve(line: string): void }>();
  const firmware = startNodeFirmware({
    config: { connectionString: emulator.connectionString(deviceId), telemetryIntervalMs, logLevel: 'info' },
    extraCAs: [emulator.caDer],
    logger: {
      prefix: '[device]',
      write: (line) => {
        lines.push(line);
        for (const waiter of waiters) if (waiter.pattern.test(line)) waiter.resolve(line);
      },
    },
  });
  return {
    firmware,
    lines,
    waitForLine: (pattern, timeoutMs = 10_000, past = false) => {
      const seen = past ? lines.find((l) => pattern.test(l)) : undefined;
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no device line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`));
        }, timeoutMs);
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(line);
          },
        };
        waiters.add(waiter);
      });
    },
    stop: () => firmware.stop(),
  };
}
