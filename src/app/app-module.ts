// An optional piece of device behaviour the host wires in (FOTA is one): started with the connected hub each time
// the app starts on a client, stopped with the app. The base image imports only this type, so a board without the
// module carries none of its code.

import type { HostPorts, LogLevel } from '../ports';
import type { NamedRoot } from '../trust/trust-store';
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

/**
 * Roots kept in flash in place of the built-in ones (src/fota/trust-bundle.ts). Asked at every boot, before the
 * trust list is built; `start` of the same module then means one connection with those roots succeeded.
 */
export interface TrustHook {
  /** The roots to use this boot in place of the built-in roots and extra CAs; undefined keeps those. */
  roots(): NamedRoot[] | undefined;
  /** The hub refused this boot's roots (tls-verify). True when the hook went back to older roots: boot again. */
  verifyFailed(): boolean;
}

export interface AppModule {
  /** Returns the function that stops it. */
  start(context: AppModuleContext): () => void;
  trust?: TrustHook;
}
