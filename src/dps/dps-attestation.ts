// How the device proves itself to DPS, and the MQTT credentials that follow from it.
// - Individual symmetric key: the device's own key signs the SAS token.
// - Group symmetric key: the device derives its own key from the group key and its registration id, so the
//   group key never leaves the device and the hub later accepts the derived key.
// - X.509: TLS client authentication; the registration id is the leaf certificate's subject CN (DPS and the hub
//   refuse any other), the password stays empty.

import { deriveDeviceKey } from '../azure/group-key';
import { checkRegistrationId } from '../azure/identifiers';
import { buildDpsSasToken, expiryFromClock, type HmacSha256, type SymmetricKey } from '../azure/sas-token';
import { utf8Encode } from '../encoding/utf8';
import type { AttestationKind } from '../storage/assignment-store';
import type { SecurityTagStore } from '../storage/security-tags';
import { readCertificateInfo } from '../trust/x509-validity';
import { DpsError } from './dps-errors';

export type DpsAttestation =
  | { kind: 'symmetric-key'; registrationId: string; key: SymmetricKey }
  | { kind: 'group-symmetric-key'; registrationId: string; groupKey: SymmetricKey }
  /** `registrationId`, when given, must equal the certificate's CN; it is read from the certificate otherwise. */
  | { kind: 'x509'; clientCertificates: Uint8Array[]; clientKey: Uint8Array; registrationId?: string };

/** An attestation reduced to what both DPS and, afterwards, the hub need. */
export type DeviceCredentials =
  | { kind: 'sas'; registrationId: string; /** the key this device signs with (derived for a group) */ deviceKey: SymmetricKey }
  | { kind: 'x509'; registrationId: string; clientCertificates: Uint8Array[]; clientKey: Uint8Array };

function configError(message: string): DpsError {
  return new DpsError('invalid-config', message, { retryable: false });
}

function credentialsError(message: string): DpsError {
  return new DpsError('credentials', message, { retryable: false });
}

/** Which kind the assignment store records: a group key and an individual key are both symmetric keys. */
export function attestationKind(attestation: DpsAttestation): AttestationKind {
  return attestation.kind === 'x509' ? 'x509' : 'symmetric-key';
}

export function resolveCredentials(attestation: DpsAttestation, hmac: HmacSha256): DeviceCredentials | DpsError {
  switch (attestation.kind) {
    case 'symmetric-key': {
      const reg = checkRegistrationId(attestation.registrationId);
      if (!reg.ok) return configError(reg.error.message);
      if (attestation.key.length === 0) return credentialsError('key: the symmetric key is empty');
      return { kind: 'sas', registrationId: attestation.registrationId, deviceKey: attestation.key };
    }
    case 'group-symmetric-key': {
      const reg = checkRegistrationId(attestation.registrationId);
      if (!reg.ok) return configError(reg.error.message);
      const derived = deriveDeviceKey(attestation.groupKey, attestation.registrationId, hmac);
      if (!derived.ok) return credentialsError(`cannot derive the device key: ${derived.error.message}`);
      return { kind: 'sas', registrationId: attestation.registrationId, deviceKey: derived.value };
    }
    case 'x509': {
      const leaf = attestation.clientCertificates[0];
      if (leaf === undefined) return credentialsError('clientCertificates: no client certificate');
      if (attestation.clientKey.length === 0) return credentialsError('clientKey: no private key');
      const info = readCertificateInfo(leaf);
      if (!info.ok) return credentialsError(`clientCertificates[0]: ${info.error.message}`);
      const cn = info.info.subjectCN;
      if (cn === undefined) return credentialsError('clientCertificates[0]: the certificate has no subject CN to use as registration id');
      const reg = checkRegistrationId(cn, 'certificate subject CN');
      if (!reg.ok) return credentialsError(reg.error.message);
      if (attestation.registrationId !== undefined && attestation.registrationId.toLowerCase() !== cn.toLowerCase()) {
        return configError('registrationId: differs from the certificate subject CN, which DPS requires');
      }
      return { kind: 'x509', registrationId: cn, clientCertificates: attestation.clientCertificates, clientKey: attestation.clientKey };
    }
  }
}

/** The CONNECT password: a SAS token for symmetric keys, none for X.509. Signing needs a set wall clock. */
export function dpsPassword(
  credentials: DeviceCredentials,
  idScope: string,
  nowUnixMs: number | undefined,
  ttlSeconds: number,
  hmac: HmacSha256,
): Uint8Array | undefined | DpsError {
  if (credentials.kind === 'x509') return undefined;
  const expiry = expiryFromClock(nowUnixMs, ttlSeconds);
  if (!expiry.ok) {
    if (expiry.error.code === 'clock-not-set') {
      return new DpsError('clock-not-set', 'the wall clock is not set (no SNTP yet): cannot sign the DPS token', { retryable: true });
    }
    return configError(expiry.error.message);
  }
  const token = buildDpsSasToken(
    { idScope, registrationId: credentials.registrationId, key: credentials.deviceKey, expiryUnixSeconds: expiry.value },
    hmac,
  );
  if (!token.ok) {
    return token.error.code === 'invalid-base64' || token.error.code === 'crypto-failed' || token.error.field === 'key'
      ? credentialsError(token.error.message)
      : configError(token.error.message);
  }
  return utf8Encode(token.value);
}

export type TagAttestationChoice =
  | { kind: 'symmetric-key' | 'group-symmetric-key'; registrationId: string }
  | { kind: 'x509'; registrationId?: string };

/** Reads the attestation's secret part from a security tag: the symmetric key, or the certificate chain and key. */
export function attestationFromTag(tags: SecurityTagStore, tag: number, choice: TagAttestationChoice): DpsAttestation | DpsError {
  const read = tags.read(tag);
  if (!read.ok) return credentialsError(`security tag ${tag}: ${read.fault.message}`);
  const content = read.content;
  if (choice.kind === 'x509') {
    if (content.clientCertificates.length === 0) return credentialsError(`security tag ${tag} holds no client certificate`);
    if (content.privateKey === undefined) return credentialsError(`security tag ${tag} holds no private key`);
    const attestation: DpsAttestation = { kind: 'x509', clientCertificates: content.clientCertificates, clientKey: content.privateKey };
    if (choice.registrationId !== undefined) attestation.registrationId = choice.registrationId;
    return attestation;
  }
  if (content.symmetricKey === undefined) return credentialsError(`security tag ${tag} holds no symmetric key`);
  return choice.kind === 'symmetric-key'
    ? { kind: 'symmetric-key', registrationId: choice.registrationId, key: content.symmetricKey }
    : { kind: 'group-symmetric-key', registrationId: choice.registrationId, groupKey: content.symmetricKey };
}
