// The explorer test bed: an in-memory emulator with its control server serving the page, the firmware on the
// Node host as the device (provisioned through DPS, telemetry every second), and the device's log lines kept.
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

export const GROUP_ID = 'explorer-group';
const GROUP_KEY = Buffer.alloc(32, 0x5a).toString('base64');

/**
 * The firmware on the Node host, provisioned through DPS in a symmetric-key group enrollment (as in `npm start`),
 * so the page has an enrollment and a registration to show; its registration id is its device id.
 */
export function startDevice(emulator: Emulator, deviceId: string, telemetryIntervalMs = 1000): TestDevice {
  const dps = emulator.dps!;
  if (!dps.enrollments.list().groups.some((g) => g.enrollmentGroupId === GROUP_ID)) {
    dps.enrollments.addGroup({
      enrollmentGroupId: GROUP_ID,
      attestation: { type: 'symmetricKey', primaryKey: GROUP_KEY, secondaryKey: Buffer.alloc(32, 0xa5).toString('base64') },
      pollsBeforeAssigned: 1,
      retryAfterSeconds: 1,
    });
  }
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve(line: string): void }>();
  const firmware = startNodeFirmware({
    config: { idScope: dps.idScope, registrationId: deviceId, groupKey: GROUP_KEY, dpsEndpoint: `127.0.0.1:${dps.port}`, telemetryIntervalMs, logLevel: 'info' },
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
