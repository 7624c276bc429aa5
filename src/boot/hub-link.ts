// What the boot flow needs from a hub connection, kept small so any hub client can sit behind it (the real one
// through hub-client-link.ts, a fake in tests). The link reconnects by itself; the boot flow only listens to how
// attempts end and decides when the assignment itself is in doubt.

import type { SymmetricKey } from '../azure/sas-token';
import type { DeviceCredentials } from '../dps/dps-attestation';

export type HubAuthMaterial =
  | { kind: 'sas'; key: SymmetricKey }
  | { kind: 'x509'; clientCertificates: Uint8Array[]; clientKey: Uint8Array };

export interface HubTarget {
  /** As DPS returned it (may carry `:port` for an emulator). */
  hubHost: string;
  deviceId: string;
  auth: HubAuthMaterial;
}

/**
 * - network: the hub could not be reached (DNS, refused, reset, timeouts); says nothing about the assignment.
 * - auth: the failure policy says re-provision (CONNACK 2/4/5, 401/403): the device may have moved to another hub.
 * - other: anything else (CONNACK 1/3, TLS verification, protocol trouble, configuration).
 */
export type HubFailureKind = 'network' | 'auth' | 'other';

export interface HubFailure {
  kind: HubFailureKind;
  message: string;
  /** The failure policy stops the fast retries here: the boot flow re-provisions (auth) or gives up (other). */
  final: boolean;
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

/** The hub signs in with what DPS attested: the same (or derived) key, or the same certificate. */
export function hubAuthFor(credentials: DeviceCredentials): HubAuthMaterial {
  return credentials.kind === 'sas'
    ? { kind: 'sas', key: credentials.deviceKey }
    : { kind: 'x509', clientCertificates: credentials.clientCertificates, clientKey: credentials.clientKey };
}
