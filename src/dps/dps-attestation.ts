// How the device proves itself to DPS, and the MQTT password that follows from it.
// - Individual symmetric key: the device's own key signs the SAS token.
// - Enrollment group key: the device derives its own key from the group key and its registration id, so the
//   group key never leaves the device and the hub later accepts the derived key.
// - X.509: TLS client authentication; the registration id is the leaf certificate's subject CN (DPS and the hub
//   refuse any other), the password stays empty.

import { deriveDeviceKey } from '../azure/group-key';
import { checkRegistrationId } from '../azure/identifiers';
import { buildDpsSasToken, expiryFromClock, type HmacSha256 } from '../azure/sas-token';
import { utf8Encode } from '../encoding/utf8';
import type { DpsIdentity } from '../identity';
import { err, ok, type Result } from '../result';
import { readCertificateInfo } from '../trust/x509-validity';
import { clockNotSetError, DpsError } from './dps-errors';

/** The identity as the device signs with it: the registration id known, a group key replaced by the derived key. */
export type SigningIdentity = DpsIdentity & { registrationId: string; enrollmentGroup?: false };

function configError(message: string): DpsError {
  return new DpsError('invalid-config', message, { retryable: false });
}

function credentialsError(message: string): DpsError {
  return new DpsError('credentials', message, { retryable: false });
}

function signingAs(identity: DpsIdentity, registrationId: string, credential: DpsIdentity['credential']): SigningIdentity {
  return { kind: 'dps', idScope: identity.idScope, registrationId, credential };
}

/** Checks the identity and resolves what it signs with; errors name the field, never a key. */
export function signingIdentity(identity: DpsIdentity, hmac: HmacSha256): Result<SigningIdentity, DpsError> {
  const credential = identity.credential;
  if (credential.kind === 'sas') {
    const registrationId = identity.registrationId ?? '';
    const reg = checkRegistrationId(registrationId);
    if (!reg.ok) return err(configError(reg.error.message));
    if (!identity.enrollmentGroup) {
      if (credential.key.length === 0) return err(credentialsError('key: the symmetric key is empty'));
      return ok(signingAs(identity, registrationId, credential));
    }
    const derived = deriveDeviceKey(credential.key, registrationId, hmac);
    if (!derived.ok) return err(credentialsError(`cannot derive the device key: ${derived.error.message}`));
    return ok(signingAs(identity, registrationId, { kind: 'sas', key: derived.value }));
  }
  const leaf = credential.chain[0];
  if (leaf === undefined && credential.secTag !== undefined) {
    // The modem holds certificate and key: the configuration names the registration id (the certificate's CN).
    const reg = checkRegistrationId(identity.registrationId ?? '');
    if (!reg.ok) return err(configError(`registrationId: required when the modem holds the certificate (${reg.error.message})`));
    return ok(signingAs(identity, identity.registrationId!, credential));
  }
  if (leaf === undefined) return err(credentialsError('chain: no client certificate'));
  if (credential.secTag === undefined && (credential.privateKey === undefined || credential.privateKey.length === 0)) return err(credentialsError('privateKey: no private key'));
  const info = readCertificateInfo(leaf);
  if (!info.ok) return err(credentialsError(`chain[0]: ${info.error.message}`));
  const cn = info.value.subjectCN;
  if (cn === undefined) return err(credentialsError('chain[0]: the certificate has no subject CN to use as registration id'));
  const reg = checkRegistrationId(cn, 'certificate subject CN');
  if (!reg.ok) return err(credentialsError(reg.error.message));
  if (identity.registrationId !== undefined && identity.registrationId.toLowerCase() !== cn.toLowerCase()) {
    return err(configError('registrationId: differs from the certificate subject CN, which DPS requires'));
  }
  return ok(signingAs(identity, cn, credential));
}

/** The CONNECT password: a SAS token for symmetric keys, none for X.509. Signing needs a set wall clock. */
export function dpsPassword(
  identity: SigningIdentity,
  nowUnixMs: number | undefined,
  ttlSeconds: number,
  hmac: HmacSha256,
): Result<Uint8Array | undefined, DpsError> {
  const credential = identity.credential;
  if (credential.kind === 'x509') return ok(undefined);
  const expiry = expiryFromClock(nowUnixMs, ttlSeconds);
  if (!expiry.ok) {
    if (expiry.error.code === 'clock-not-set') {
      return err(clockNotSetError());
    }
    return err(configError(expiry.error.message));
  }
  const token = buildDpsSasToken(
    { idScope: identity.idScope, registrationId: identity.registrationId, key: credential.key, expiryUnixSeconds: expiry.value },
    hmac,
  );
  if (!token.ok) {
    return err(
      token.error.code === 'invalid-base64' || token.error.code === 'crypto-failed' || token.error.field === 'key'
        ? credentialsError(token.error.message)
        : configError(token.error.message),
    );
  }
  return ok(utf8Encode(token.value));
}
