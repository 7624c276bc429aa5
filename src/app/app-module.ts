// An optional piece of device behaviour the host wires in (FOTA is one): started with the connected hub each time
// the app starts on a client, stopped with the app. The base image imports only this type, so a board without the
// module carries none of its code.

import type { HostPorts, LogLevel } from '../ports';
import type { AppHub } from './app-hub';

export interface AppModuleContext {
  hub: AppHub;
  host: HostPorts;
  /** The trust list the hub connection uses. */
  trustedCAs: Uint8Array[];
  /** Restarts the device (the platform's reboot, or the firmware restarted in place). */
  reboot(): void;
  log(level: LogLevel, message: string): void;
}

export interface AppModule {
  /** Returns the function that stops it. */
  start(context: AppModuleContext): () => void;
}
