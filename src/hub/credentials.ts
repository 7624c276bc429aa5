// Who the client connects as: the one HubIdentity of src/identity.ts (a device or module of a hub, with its key
// or X.509 credential), or a connection string, which names the same things in one line. Everything is checked
// here, once, so a bad credential is a named 'invalid-config' error at start-up instead of a CONNACK refusal
// later. Errors never quote a key.

import { keyBytes } from '../azure/sas-token';
import { parseConnectionString } from '../azure/connection-string';
import { checkDeviceId, checkHostName, checkModuleId } from '../azure/identifiers';
import type { AzureError } from '../azure/azure-error';
import type { DeviceCredential, HubIdentity } from '../identity';
import { err, ok, type Result } from '../result';
import { HubError } from './hub-error';

/** DER chain (leaf first; the leaf's subject CN is the device id, or `{deviceId}/{moduleId}`) and the leaf's key. */
export type X509Credential = Extract<DeviceCredential, { kind: 'x509' }>;

export interface ConnectionStringCredentials {
  kind: 'connection-string';
  connectionString: string;
  /** Required when the string says `x509=true`. */
  certificate?: X509Credential;
}

export type HubCredentials = HubIdentity | ConnectionStringCredentials;

function invalid(field: string, message: string): { ok: false; error: HubError } {
  return err(new HubError('invalid-config', `${field}: ${message}`, { field }));
}

/** Azure messages already start with the field they name. */
function fromAzure(error: AzureError, prefix = ''): { ok: false; error: HubError } {
  const details = error.field === undefined ? { cause: error } : { field: error.field, cause: error };
  return err(new HubError('invalid-config', prefix + error.message, details));
}

function checkX509(credential: X509Credential | undefined): string | undefined {
  if (credential === undefined || typeof credential !== 'object') return 'is required for X.509 authentication';
  if (!Array.isArray(credential.chain)) return 'chain must be a list of DER certificates';
  if (credential.chain.length === 0 && credential.secTag === undefined) return 'chain must hold at least the leaf certificate';
  if (credential.chain.some((der) => !(der instanceof Uint8Array) || der.length === 0)) return 'chain entries must be non-empty DER bytes';
  if (credential.secTag !== undefined) return Number.isInteger(credential.secTag) && credential.secTag >= 0 && credential.secTag <= 0x7fffffff ? undefined : 'secTag must be an integer 0..2147483647';
  if (!(credential.privateKey instanceof Uint8Array) || credential.privateKey.length === 0) return 'privateKey must be non-empty DER bytes';
  return undefined;
}

function checkNames(identity: HubIdentity): Result<true, HubError> {
  const host = checkHostName(identity.hostName, 'hostName');
  if (!host.ok) return fromAzure(host.error);
  const device = checkDeviceId(identity.deviceId, 'deviceId');
  if (!device.ok) return fromAzure(device.error);
  if (identity.moduleId !== undefined) {
    const mod = checkModuleId(identity.moduleId, 'moduleId');
    if (!mod.ok) return fromAzure(mod.error);
  }
  if (identity.gatewayHostName !== undefined) {
    const gw = checkHostName(identity.gatewayHostName, 'gatewayHostName');
    if (!gw.ok) return fromAzure(gw.error);
  }
  return ok(true);
}

function checkIdentity(identity: HubIdentity): Result<HubIdentity, HubError> {
  const names = checkNames(identity);
  if (!names.ok) return names;
  const credential = identity.credential;
  if (typeof credential !== 'object' || credential === null) return invalid('credential', 'must be an object');
  if (credential.kind === 'x509') {
    const problem = checkX509(credential);
    return problem === undefined ? ok({ ...identity }) : invalid('credential', problem);
  }
  if (credential.kind !== 'sas') return invalid('credential.kind', "must be 'sas' or 'x509'");
  const key = keyBytes(credential.key, 'key');
  if (!key.ok) return fromAzure(key.error);
  if (identity.keyName !== undefined && (typeof identity.keyName !== 'string' || identity.keyName.length === 0)) {
    return invalid('keyName', 'must be a non-empty string when given');
  }
  // A copy: each resolve is new credentials to the connection, even when the caller hands the same object again.
  return ok({ ...identity });
}

function fromConnectionString(credentials: ConnectionStringCredentials): Result<HubIdentity, HubError> {
  if (typeof credentials.connectionString !== 'string') return invalid('connectionString', 'must be a string');
  const parsed = parseConnectionString(credentials.connectionString);
  if (!parsed.ok) return fromAzure(parsed.error, parsed.error.field === 'connection string' ? '' : 'connection string: ');
  const cs = parsed.value;
  let credential: DeviceCredential;
  if (cs.x509) {
    const problem = checkX509(credentials.certificate);
    if (problem !== undefined) return invalid('certificate', problem);
    credential = credentials.certificate as X509Credential;
  } else {
    credential = { kind: 'sas', key: cs.sharedAccessKey as string };
  }
  const identity: HubIdentity = { kind: 'hub', hostName: cs.hostName, deviceId: cs.deviceId, credential };
  if (cs.moduleId !== undefined) identity.moduleId = cs.moduleId;
  if (cs.gatewayHostName !== undefined) identity.gatewayHostName = cs.gatewayHostName;
  if (!cs.x509 && cs.sharedAccessKeyName !== undefined) identity.keyName = cs.sharedAccessKeyName;
  return ok(identity);
}

/** Checks credentials in either form and gives the HubIdentity every attempt signs with. */
export function resolveCredentials(credentials: HubCredentials): Result<HubIdentity, HubError> {
  if (typeof credentials !== 'object' || credentials === null) return invalid('credentials', 'must be an object');
  switch (credentials.kind) {
    case 'connection-string':
      return fromConnectionString(credentials);
    case 'hub':
      return checkIdentity(credentials);
    default:
      return invalid('credentials.kind', "must be 'hub' or 'connection-string'");
  }
}
