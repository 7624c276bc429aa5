// The identity the client connects as, from whichever form the application holds: a connection string, a
// device (or module) key, or an X.509 certificate. Everything is checked here, once, so a bad credential is a
// named 'invalid-config' error at start-up instead of a CONNACK refusal later. Errors never quote a key.

import { keyBytes } from '../azure/sas-token';
import { parseConnectionString } from '../azure/connection-string';
import { checkDeviceId, checkHostName, checkModuleId } from '../azure/identifiers';
import type { AzureError } from '../azure/azure-error';
import { HubError, type HubResult } from './hub-error';

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

export type HubAuth = { kind: 'sas'; key: string | Uint8Array; keyName?: string } | { kind: 'x509'; certificate: ClientCertificate };

export interface HubIdentity {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  gatewayHostName?: string;
  auth: HubAuth;
}

function invalid(field: string, message: string): { ok: false; error: HubError } {
  return { ok: false, error: new HubError('invalid-config', `${field}: ${message}`, { field }) };
}

/** Azure messages already start with the field they name. */
function fromAzure(error: AzureError, prefix = ''): { ok: false; error: HubError } {
  const details = error.field === undefined ? { cause: error } : { field: error.field, cause: error };
  return { ok: false, error: new HubError('invalid-config', prefix + error.message, details) };
}

function checkCertificate(certificate: ClientCertificate | undefined): string | undefined {
  if (certificate === undefined || typeof certificate !== 'object') return 'is required for X.509 authentication';
  if (!Array.isArray(certificate.chain) || certificate.chain.length === 0) return 'chain must hold at least the leaf certificate';
  if (certificate.chain.some((der) => !(der instanceof Uint8Array) || der.length === 0)) return 'chain entries must be non-empty DER bytes';
  if (!(certificate.privateKey instanceof Uint8Array) || certificate.privateKey.length === 0) return 'privateKey must be non-empty DER bytes';
  return undefined;
}

function checkNames(hostName: string, deviceId: string, moduleId: string | undefined, gateway: string | undefined): HubResult<true> {
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
  return { ok: true, value: true };
}

function withOptional(identity: HubIdentity, moduleId: string | undefined, gateway: string | undefined): HubIdentity {
  if (moduleId !== undefined) identity.moduleId = moduleId;
  if (gateway !== undefined) identity.gatewayHostName = gateway;
  return identity;
}

export function resolveCredentials(credentials: HubCredentials): HubResult<HubIdentity> {
  if (typeof credentials !== 'object' || credentials === null) return invalid('credentials', 'must be an object');
  switch (credentials.type) {
    case 'connection-string': {
      if (typeof credentials.connectionString !== 'string') return invalid('connectionString', 'must be a string');
      const parsed = parseConnectionString(credentials.connectionString);
      if (!parsed.ok) return fromAzure(parsed.error, parsed.error.field === 'connection string' ? '' : 'connection string: ');
      const cs = parsed.value;
      let auth: HubAuth;
      if (cs.x509) {
        const problem = checkCertificate(credentials.certificate);
        if (problem !== undefined) return invalid('certificate', problem);
        auth = { kind: 'x509', certificate: credentials.certificate as ClientCertificate };
      } else {
        auth = { kind: 'sas', key: cs.sharedAccessKey as string };
        if (cs.sharedAccessKeyName !== undefined) auth.keyName = cs.sharedAccessKeyName;
      }
      return { ok: true, value: withOptional({ hostName: cs.hostName, deviceId: cs.deviceId, auth }, cs.moduleId, cs.gatewayHostName) };
    }
    case 'symmetric-key': {
      const names = checkNames(credentials.hostName, credentials.deviceId, credentials.moduleId, credentials.gatewayHostName);
      if (!names.ok) return names;
      const key = keyBytes(credentials.key, 'key');
      if (!key.ok) return fromAzure(key.error);
      if (credentials.keyName !== undefined && (typeof credentials.keyName !== 'string' || credentials.keyName.length === 0)) {
        return invalid('keyName', 'must be a non-empty string when given');
      }
      const auth: HubAuth = { kind: 'sas', key: credentials.key };
      if (credentials.keyName !== undefined) auth.keyName = credentials.keyName;
      return {
        ok: true,
        value: withOptional({ hostName: credentials.hostName, deviceId: credentials.deviceId, auth }, credentials.moduleId, credentials.gatewayHostName),
      };
    }
    case 'x509': {
      const names = checkNames(credentials.hostName, credentials.deviceId, credentials.moduleId, credentials.gatewayHostName);
      if (!names.ok) return names;
      const problem = checkCertificate(credentials.certificate);
      if (problem !== undefined) return invalid('certificate', problem);
      return {
        ok: true,
        value: withOptional(
          { hostName: credentials.hostName, deviceId: credentials.deviceId, auth: { kind: 'x509', certificate: credentials.certificate } },
          credentials.moduleId,
          credentials.gatewayHostName,
        ),
      };
    }
    default:
      return invalid('credentials.type', "must be 'connection-string', 'symmetric-key' or 'x509'");
  }
}
