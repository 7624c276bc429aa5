// The one seam between the hub side and the DPS side (emulator/src/dps/, written separately).
// The DPS server gets the same registry, so provisioning a device makes it known to the hub at once.
import type { Registry } from './registry';
import type { EmulatorLog } from './log';
import { startDpsServer, type DpsServer } from './dps/dps-server';

export interface DpsLaunchOptions {
  host: '127.0.0.1';
  /** 0 = ephemeral. */
  port: number;
  /** PEM strings: the server key and certificate, and the CA that signed them. */
  tls: { key: string; cert: string; ca: string };
  registry: Registry;
  /** What DPS answers as `assignedHub`: `localhost:{hubPort}`, or `localhost` when the hub listens on 8883. */
  hubHostName: string;
  log: EmulatorLog;
}

export type RunningDps = DpsServer;

export async function launchDps(options: DpsLaunchOptions): Promise<RunningDps | undefined> {
  // To run the hub without DPS, return undefined here (or pass `dps: false` to the Emulator).
  return startDpsServer(options);
}
