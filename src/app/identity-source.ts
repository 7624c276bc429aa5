// Turns the configured identity into what the clients take: hub credentials for a fixed hub, or a DPS
// registration (the DPS identity + the inputs an assignment is stored under). Secrets that live in security tags
// (certificates, keys written by `iot-store`) are read here; configuration written to the store by `iot-store
// config set` is used when the firmware's own configuration names no identity.

import type { HmacSha256 } from '../azure/sas-token';
import { signingIdentity } from '../dps/dps-attestation';
import type { HubCredentials } from '../hub/credentials';
import { credentialKind, type CredentialKind, type DeviceCredential, type DpsIdentity, type HubIdentity } from '../identity';
import type { KeyValueStore } from '../ports';
import { err, ok, type Result } from '../result';
import type { DpsInputs } from '../storage/assignment-store';
import { DeviceConfigStore } from '../storage/device-config';
import { SecurityTagReader } from '../storage/security-tags';
import type { TrustMode } from '../trust/trust-store';
import type { IdentityConfig } from './config';

export interface DpsRegistration {
  /** `host` or `host:port`. */
  endpoint: string;
  identity: DpsIdentity;
  /** What a stored assignment must match to be reused. */
  inputs: DpsInputs;
}

export type ResolvedIdentity = { kind: 'hub'; credentials: HubCredentials } | { kind: 'dps'; registration: DpsRegistration };

export interface IdentityPlan {
  identity: ResolvedIdentity;
  /** CAs from security tags to add to (or put in place of) the default roots. */
  tagCAs: Uint8Array[];
  trust: TrustMode;
}

/** The failure is a message naming what is missing or wrong (never a secret). */
export type IdentityResult = Result<IdentityPlan, string>;

/** The credential of one kind that a security tag holds. */
export function credentialFromTag(tags: SecurityTagReader, tag: number, kind: CredentialKind, keysInModem = false): Result<DeviceCredential, string> {
  if (keysInModem && kind === 'x509') {
    // The modem signs with its own tag of that number; a certificate kept here too only tells the device its CN.
    const read = tags.read(tag);
    return ok({ kind: 'x509', chain: read.ok ? read.value.clientCertificates : [], secTag: tag });
  }
  const read = tags.read(tag);
  if (!read.ok) return err(`security tag ${tag}: ${read.error.message}`);
  const content = read.value;
  if (kind === 'symmetric-key') {
    return content.symmetricKey === undefined ? err(`security tag ${tag} holds no symmetric key`) : ok({ kind: 'sas', key: content.symmetricKey });
  }
  if (content.clientCertificates.length === 0) return err(`security tag ${tag} holds no client certificate`);
  if (content.privateKey === undefined) return err(`security tag ${tag} holds no private key`);
  return ok({ kind: 'x509', chain: content.clientCertificates, privateKey: content.privateKey });
}

function dpsRegistration(endpoint: string, identity: DpsIdentity, hmac: HmacSha256): Result<DpsRegistration, string> {
  // Resolving now catches a bad key or certificate before any connection, and yields the registration id an
  // X.509 device takes from its certificate.
  const signing = signingIdentity(identity, hmac);
  if (!signing.ok) return err(signing.error.message);
  const { idScope, registrationId } = signing.value;
  return ok({ endpoint, identity, inputs: { globalEndpoint: endpoint, idScope, registrationId, attestation: credentialKind(identity.credential) } });
}

function dpsIdentity(idScope: string, registrationId: string | undefined, credential: DeviceCredential, enrollmentGroup = false): DpsIdentity {
  const identity: DpsIdentity = { kind: 'dps', idScope, credential };
  if (registrationId !== undefined) identity.registrationId = registrationId;
  if (enrollmentGroup) identity.enrollmentGroup = true;
  return identity;
}

/** `keysInModem`: X.509 tags name the cellular modem's security tags (its key never reaches JS). */
export function resolveIdentity(identity: IdentityConfig, store: KeyValueStore, hmac: HmacSha256, keysInModem = false): IdentityResult {
  const tags = new SecurityTagReader(store);
  switch (identity.kind) {
    case 'connection-string': {
      const credentials: HubCredentials = { kind: 'connection-string', connectionString: identity.connectionString };
      if (identity.securityTag !== undefined) {
        const certificate = credentialFromTag(tags, identity.securityTag, 'x509', keysInModem);
        if (!certificate.ok) return certificate;
        if (certificate.value.kind === 'x509') credentials.certificate = certificate.value;
      }
      return ok({ identity: { kind: 'hub', credentials }, tagCAs: [], trust: 'extend' });
    }
    case 'dps': {
      const source = identity.credential;
      let credential: DeviceCredential;
      if (source.kind !== 'security-tag') credential = source;
      else {
        const fromTag = credentialFromTag(tags, source.tag, 'x509', keysInModem);
        if (!fromTag.ok) return fromTag;
        credential = fromTag.value;
      }
      const registration = dpsRegistration(identity.endpoint, dpsIdentity(identity.idScope, identity.registrationId, credential, identity.enrollmentGroup), hmac);
      if (!registration.ok) return registration;
      return ok({ identity: { kind: 'dps', registration: registration.value }, tagCAs: [], trust: 'extend' });
    }
    case 'stored':
      return resolveStored(store, tags, hmac, keysInModem);
  }
}

function resolveStored(store: KeyValueStore, tags: SecurityTagReader, hmac: HmacSha256, keysInModem: boolean): IdentityResult {
  const loaded = new DeviceConfigStore(store).load();
  if (!loaded.ok) {
    return err(
      loaded.error.code === 'missing'
        ? 'no identity configured: give a connection string or DPS settings, or store them with `iot-store config set`'
        : `the stored device configuration is unusable: ${loaded.error.message}`,
    );
  }
  const config = loaded.value;
  const tagCAs = tags.trustedCAsFor(config.tags);
  const primary = config.tags.primary;
  if (config.hub !== undefined) {
    const hub = config.hub;
    const credential = credentialFromTag(tags, primary, hub.auth, keysInModem);
    if (!credential.ok) return credential;
    const credentials: HubIdentity = { kind: 'hub', hostName: hub.hostName, deviceId: hub.deviceId, credential: credential.value };
    if (hub.moduleId !== undefined) credentials.moduleId = hub.moduleId;
    if (hub.gatewayHostName !== undefined) credentials.gatewayHostName = hub.gatewayHostName;
    return ok({ identity: { kind: 'hub', credentials }, tagCAs, trust: config.trust });
  }
  if (config.dps !== undefined) {
    const dps = config.dps;
    // iot-store stores the key derived from a group key, never the group key itself: it is an individual key here.
    const credential = credentialFromTag(tags, primary, dps.attestation, keysInModem);
    if (!credential.ok) return credential;
    const registration = dpsRegistration(dps.globalEndpoint, dpsIdentity(dps.idScope, dps.registrationId, credential.value), hmac);
    if (!registration.ok) return registration;
    return ok({ identity: { kind: 'dps', registration: registration.value }, tagCAs, trust: config.trust });
  }
  return err('the stored device configuration names neither a hub nor DPS');
}
