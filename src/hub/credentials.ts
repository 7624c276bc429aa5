// The identity the client connects as, from whichever form the application holds: a connection string, a
// device (or module) key, or an X.509 certificate. Everything is checked here, once, so a bad credential is a
// named 'invalid-config' error at start-up instead of a CONNACK refusal later. Errors never quote a key.

import { keyBytes } from '../azure/sas-token';
import { parseConnectionString } from '../azure/connection-string';
import { checkDeviceId, checkHostName, checkModuleId } from '../azure/identifiers';
import type { AzureError } from '../azure/azure-error';
import type { DeviceCredential, HubIdentity } from '../identity';
import { err, ok, type Result } from '../result';
import { HubError } from './hub-error';

export interface ClientCertificate {
  /** DER certificates, leaf first. The leaf's subject CN must be the device id (or `{deviceId}/{moduleId}`). */
  chain: Uint8Array[];
  /** DER (PKCS#8) private key of the leaf. */
  privateKey: Uint8Array;
}

export type HubCredentials =
  | {
      type: 'connection-string';
      connectionString: string;
      /** Required when the string says `x509=true`. */
      certificate?: ClientCertificate;
    }
  | {
      type: 'symmetric-key';
      /** The hub's host name: what the token and username name, even through a gateway. */
      hostName: string;
      deviceId: string;
      moduleId?: string;
      /** Base64 text (as in connection strings) or the raw key bytes. */
      key: string | Uint8Array;
      /** Only for a hub-level shared access policy key; device keys have no name. */
      keyName?: string;
      /** Connect to this IoT Edge gateway instead of the hub. */
      gatewayHostName?: string;
    }
  | {
      type: 'x509';
      hostName: string;
      deviceId: string;
      moduleId?: string;
      certificate: ClientCertificate;
      gatewayHostName?: string;
    };

function invalid(field: string, message: string): { ok: false; error: HubError } {
  return err(new HubError('invalid-config', `${field}: ${message}`, { field }));
}

/** Azure messages already start with the field they name. */
function fromAzure(error: AzureError, prefix = ''): { ok: false; error: HubError } {
  const details = error.field === undefined ? { cause: error } : { field: error.field, cause: error };
  return err(new HubError('invalid-config', prefix + error.message, details));
}

function checkCertificate(certificate: ClientCertificate | undefined): string | undefined {
  if (certificate === undefined || typeof certificate !== 'object') return 'is required for X.509 authentication';
  if (!Array.isArray(certificate.chain) || certificate.chain.length === 0) return 'chain must hold at least the leaf certificate';
  if (certificate.chain.some((der) => !(der instanceof Uint8Array) || der.length === 0)) return 'chain entries must be non-empty DER bytes';
  if (!(certificate.privateKey instanceof Uint8Array) || certificate.privateKey.length === 0) return 'privateKey must be non-empty DER bytes';
  return undefined;
}

function checkNames(hostName: string, deviceId: string, moduleId: string | undefined, gateway: string | undefined): Result<true, HubError> {
  const host = checkHostName(hostName, 'hostName');
  if (!host.ok) return fromAzure(host.error);
  const device = checkDeviceId(deviceId, 'deviceId');
  if (!device.ok) return fromAzure(device.error);
  if (moduleId !== undefined) {
    const mod = checkModuleId(moduleId, 'moduleId');
    if (!mod.ok) return fromAzure(mod.error);
  }
  if (gateway !== undefined) {
    const gw = checkHostName(gateway, 'gatewayHostName');
    if (!gw.ok) return fromAzure(gw.error);
  }
  return ok(true);
}

function hubIdentity(
  names: { hostName: string; deviceId: string; moduleId?: string | undefined; gatewayHostName?: string | undefined },
  credential: DeviceCredential,
  keyName?: string,
): HubIdentity {
  const identity: HubIdentity = { kind: 'hub', hostName: names.hostName, deviceId: names.deviceId, credential };
  if (names.moduleId !== undefined) identity.moduleId = names.moduleId;
  if (names.gatewayHostName !== undefined) identity.gatewayHostName = names.gatewayHostName;
  if (keyName !== undefined) identity.keyName = keyName;
  return identity;
}

function x509(certificate: ClientCertificate): DeviceCredential {
  return { kind: 'x509', chain: certificate.chain, privateKey: certificate.privateKey };
}

/** Checks credentials in any of their forms and gives the one HubIdentity (src/identity.ts) every attempt signs with. */
export function resolveCredentials(credentials: HubCredentials): Result<HubIdentity, HubError> {
  if (typeof credentials !== 'object' || credentials === null) return invalid('credentials', 'must be an object');
  switch (credentials.type) {
    case 'connection-string': {
      if (typeof credentials.connectionString !== 'string') return invalid('connectionString', 'must be a string');
      const parsed = parseConnectionString(credentials.connectionString);
      if (!parsed.ok) return fromAzure(parsed.error, parsed.error.field === 'connection string' ? '' : 'connection string: ');
      const cs = parsed.value;
      if (!cs.x509) return ok(hubIdentity(cs, { kind: 'sas', key: cs.sharedAccessKey as string }, cs.sharedAccessKeyName));
      const problem = checkCertificate(credentials.certificate);
      if (problem !== undefined) return invalid('certificate', problem);
      return ok(hubIdentity(cs, x509(credentials.certificate as ClientCertificate)));
    }
    case 'symmetric-key': {
      const names = checkNames(credentials.hostName, credentials.deviceId, credentials.moduleId, credentials.gatewayHostName);
      if (!names.ok) return names;
      const key = keyBytes(credentials.key, 'key');
      if (!key.ok) return fromAzure(key.error);
      if (credentials.keyName !== undefined && (typeof credentials.keyName !== 'string' || credentials.keyName.length === 0)) {
        return invalid('keyName', 'must be a non-empty string when given');
      }
      return ok(hubIdentity(credentials, { kind: 'sas', key: credentials.key }, credentials.keyName));
    }
    case 'x509': {
      const names = checkNames(credentials.hostName, credentials.deviceId, credentials.moduleId, credentials.gatewayHostName);
      if (!names.ok) return names;
      const problem = checkCertificate(credentials.certificate);
      if (problem !== undefined) return invalid('certificate', problem);
      return ok(hubIdentity(credentials, x509(credentials.certificate)));
    }
    default:
      return invalid('credentials.type', "must be 'connection-string', 'symmetric-key' or 'x509'");
  }
}
