// Who the device is and how it proves it, in one shape for every layer: the DPS client, the boot flow, the app's
// identity source and the stores all speak DeviceCredential and Identity, so nothing converts between private
// copies of the same idea. Types only (plus one spelling), no checks: each client checks what it is given.

import type { SymmetricKey } from './azure/sas-token';

/** What the device signs in with: a symmetric key (SAS tokens), or an X.509 chain and its private key (TLS). */
export type DeviceCredential =
  | { kind: 'sas'; /** Base64 text (as in connection strings) or the raw key bytes. */ key: SymmetricKey }
  | {
      kind: 'x509';
      /** DER certificates, leaf first. The leaf's subject CN names the device (its registration id at DPS). */
      chain: Uint8Array[];
      /** DER (PKCS#8) private key of the leaf; absent when `secTag` names the modem tag that holds it. */
      privateKey?: Uint8Array;
      /** The key never leaves a cellular modem: it signs under this security tag (see TlsConnectOptions.secTag). */
      secTag?: number;
    };

/** A hub the device connects to as a known device (or module). */
export interface HubIdentity {
  kind: 'hub';
  /** The hub's host name: what the token and username name, even through a gateway. */
  hostName: string;
  deviceId: string;
  moduleId?: string;
  /** Connect to this IoT Edge gateway instead of the hub. */
  gatewayHostName?: string;
  credential: DeviceCredential;
  /** Only for a hub-level shared access policy key; device keys have no name. */
  keyName?: string;
}

/** An enrollment at DPS, which tells the device its hub. */
export interface DpsIdentity {
  kind: 'dps';
  idScope: string;
  /** Required with a key. With X.509 the leaf's subject CN is the registration id; when given, it must equal it. */
  registrationId?: string;
  credential: DeviceCredential;
  /**
   * The key is an enrollment group's: the device signs with the key derived from it and its registration id, so the
   * group key never leaves the device and the hub later accepts the derived key.
   */
  enrollmentGroup?: boolean;
}

export type Identity = HubIdentity | DpsIdentity;

/** A credential's kind as DPS, the stored records and `iot-store` spell it. */
export type CredentialKind = 'symmetric-key' | 'x509';

export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['symmetric-key', 'x509'];

export function credentialKind(credential: DeviceCredential): CredentialKind {
  return credential.kind === 'x509' ? 'x509' : 'symmetric-key';
}
