// What the boot flow needs from a hub connection, kept small so any hub client can sit behind it (the real one
// through hub-client-connector.ts, a fake in tests). The link reconnects by itself; the boot flow only listens to
// how attempts end (as the failure policy names them, src/failure/assigned-hub.ts) and decides when the assignment
// itself is in doubt.

import type { HubFailure } from '../failure/assigned-hub';
import type { DeviceCredential } from '../identity';

export interface HubTarget {
  /** As DPS returned it (may carry `:port` for an emulator). */
  hubHost: string;
  deviceId: string;
  /** What DPS attested: the same (or derived) key, or the same certificate. */
  credential: DeviceCredential;
}

export interface HubLinkEvents {
  /** A connection attempt succeeded (first connection or a reconnection). */
  onConnected(): void;
  /** A connection attempt failed, or an established connection was lost. */
  onFailure(failure: HubFailure): void;
}

export interface HubLink<Client> {
  /** What the application uses to talk to the hub. */
  readonly client: Client;
  /** Ends the connection for good; resolves once it is closed. */
  close(): Promise<void>;
}

export interface HubConnector<Client> {
  /** Opens a link and starts connecting. May throw for a target it cannot use (reported as a final failure). */
  open(target: HubTarget, events: HubLinkEvents): HubLink<Client>;
}
