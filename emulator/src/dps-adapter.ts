// The one seam between the hub side and the DPS side (emulator/src/dps/, written separately).
// The DPS server gets the same registry, so provisioning a device makes it known to the hub at once.
import type { Registry } from './registry';
import type { EmulatorLog } from './log';

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

/** What the hub side needs back from the DPS server. */
export interface RunningDps {
  readonly port: number;
  close(): Promise<void>;
}

export async function launchDps(options: DpsLaunchOptions): Promise<RunningDps | undefined> {
  // ENABLE DPS: once emulator/src/dps/dps-server.ts exists, replace the two lines below with
  //   return (await import('./dps/dps-server')).startDpsServer(options);
  options.log('warn', 'DPS server not available yet (emulator/src/dps/dps-server.ts): DPS disabled');
  return undefined;
}
