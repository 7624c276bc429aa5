// Turns the configured identity into what the clients take: hub credentials for a fixed hub, or a DPS
// registration (attestation + the inputs an assignment is stored under). Secrets that live in security tags
// (certificates, keys written by `iot-store`) are read here; configuration written to the store by `iot-store
// config set` is used when the firmware's own configuration names no identity.

import type { HmacSha256 } from '../azure/sas-token';
import { resolveCredentials, type DpsAttestation, attestationFromTag } from '../dps/dps-attestation';
import { DpsError } from '../dps/dps-errors';
import type { HubCredentials } from '../hub/credentials';
import type { KeyValueStore } from '../ports';
import type { DpsInputs } from '../storage/assignment-store';
import { DeviceConfigStore } from '../storage/device-config';
import { SecurityTagStore } from '../storage/security-tags';
import type { TrustMode } from '../trust/trust-store';
import type { IdentityConfig } from './config';

export interface DpsRegistration {
  /** `host` or `host:port`. */
  endpoint: string;
  idScope: string;
  attestation: DpsAttestation;
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

export type IdentityResult = { ok: true; plan: IdentityPlan } | { ok: false; message: string };

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

function x509FromTag(tags: SecurityTagStore, tag: number): { chain: Uint8Array[]; privateKey: Uint8Array } | string {
  const read = tags.read(tag);
  if (!read.ok) return `security tag ${tag}: ${read.fault.message}`;
  if (read.content.clientCertificates.length === 0) return `security tag ${tag} holds no client certificate`;
  if (read.content.privateKey === undefined) return `security tag ${tag} holds no private key`;
  return { chain: read.content.clientCertificates, privateKey: read.content.privateKey };
}

function dpsRegistration(endpoint: string, idScope: string, attestation: DpsAttestation, hmac: HmacSha256): DpsRegistration | string {
  // Resolving now catches a bad key or certificate before any connection, and yields the registration id an
  // X.509 device takes from its certificate.
  const credentials = resolveCredentials(attestation, hmac);
  if (credentials instanceof DpsError) return credentials.message;
  return {
    endpoint,
    idScope,
    attestation,
    inputs: {
      globalEndpoint: endpoint,
      idScope,
      registrationId: credentials.registrationId,
      attestation: attestation.kind === 'x509' ? 'x509' : 'symmetric-key',
    },
  };
}

export function resolveIdentity(identity: IdentityConfig, store: KeyValueStore, hmac: HmacSha256): IdentityResult {
  const tags = new SecurityTagStore(store);
  switch (identity.kind) {
    case 'connection-string': {
      const credentials: HubCredentials = { type: 'connection-string', connectionString: identity.connectionString };
      if (identity.securityTag !== undefined) {
        const certificate = x509FromTag(tags, identity.securityTag);
        if (typeof certificate === 'string') return fail(certificate);
        credentials.certificate = certificate;
      }
      return { ok: true, plan: { identity: { kind: 'hub', credentials }, tagCAs: [], trust: 'extend' } };
    }
    case 'dps': {
      let attestation: DpsAttestation | DpsError;
      const registrationId = identity.registrationId;
      if (identity.attestation.kind === 'symmetric-key') {
        attestation = { kind: 'symmetric-key', registrationId: registrationId as string, key: identity.attestation.key };
      } else if (identity.attestation.kind === 'group-key') {
        attestation = { kind: 'group-symmetric-key', registrationId: registrationId as string, groupKey: identity.attestation.groupKey };
      } else {
        attestation = attestationFromTag(tags, identity.attestation.tag, registrationId === undefined ? { kind: 'x509' } : { kind: 'x509', registrationId });
      }
      if (attestation instanceof DpsError) return fail(attestation.message);
      const registration = dpsRegistration(identity.endpoint, identity.idScope, attestation, hmac);
      if (typeof registration === 'string') return fail(registration);
      return { ok: true, plan: { identity: { kind: 'dps', registration }, tagCAs: [], trust: 'extend' } };
    }
    case 'stored':
      return resolveStored(store, tags, hmac);
  }
}

function resolveStored(store: KeyValueStore, tags: SecurityTagStore, hmac: HmacSha256): IdentityResult {
  const loaded = new DeviceConfigStore(store).load();
  if (!loaded.ok) {
    return fail(
      loaded.fault.code === 'missing'
        ? 'no identity configured: give a connection string or DPS settings, or store them with `iot-store config set`'
        : `the stored device configuration is unusable: ${loaded.fault.message}`,
    );
  }
  const config = loaded.config;
  const tagCAs = tags.trustedCAsFor(config.tags);
  const primary = config.tags.primary;
  if (config.hub !== undefined) {
    const hub = config.hub;
    let credentials: HubCredentials;
    if (hub.auth === 'x509') {
      const certificate = x509FromTag(tags, primary);
      if (typeof certificate === 'string') return fail(certificate);
      credentials = { type: 'x509', hostName: hub.hostName, deviceId: hub.deviceId, certificate };
    } else {
      const read = tags.read(primary);
      if (!read.ok) return fail(`security tag ${primary}: ${read.fault.message}`);
      if (read.content.symmetricKey === undefined) return fail(`security tag ${primary} holds no symmetric key`);
      credentials = { type: 'symmetric-key', hostName: hub.hostName, deviceId: hub.deviceId, key: read.content.symmetricKey };
    }
    if (hub.moduleId !== undefined) credentials.moduleId = hub.moduleId;
    if (hub.gatewayHostName !== undefined) credentials.gatewayHostName = hub.gatewayHostName;
    return { ok: true, plan: { identity: { kind: 'hub', credentials }, tagCAs, trust: config.trust } };
  }
  if (config.dps !== undefined) {
    const dps = config.dps;
    // iot-store stores the key derived from a group key, never the group key itself: it is an individual key here.
    const attestation = attestationFromTag(
      tags,
      primary,
      dps.attestation === 'x509' ? { kind: 'x509', registrationId: dps.registrationId } : { kind: 'symmetric-key', registrationId: dps.registrationId },
    );
    if (attestation instanceof DpsError) return fail(attestation.message);
    const registration = dpsRegistration(dps.globalEndpoint, dps.idScope, attestation, hmac);
    if (typeof registration === 'string') return fail(registration);
    return { ok: true, plan: { identity: { kind: 'dps', registration }, tagCAs, trust: config.trust } };
  }
  return fail('the stored device configuration names neither a hub nor DPS');
}
