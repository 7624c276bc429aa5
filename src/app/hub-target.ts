// From "where the device goes" to the hub client's configuration: the hub name that is signed, and where TLS
// really goes when that differs (the `hubEndpoint` setting, or a `host:port` hub name as the local emulator's DPS
// hands out). Pure.

import type { DeviceCredentials } from '../dps/dps-attestation';
import type { HubCredentials } from '../hub/credentials';
import { HUB_DEFAULT_PORT, splitHostPort, type HostPort } from './config';

export interface HubTarget {
  credentials: HubCredentials;
  endpoint?: { host: string; port: number };
}

/** Hub credentials for a device DPS assigned to `assignedHub` (which may carry a port). */
export function hubTargetFromAssignment(
  assignedHub: string,
  deviceId: string,
  credentials: DeviceCredentials,
  override: HostPort | undefined,
): HubTarget | string {
  const where = splitHostPort(assignedHub, HUB_DEFAULT_PORT);
  if (typeof where === 'string') return `the assigned hub name ${where}`;
  const hub: HubCredentials =
    credentials.kind === 'sas'
      ? { type: 'symmetric-key', hostName: where.host, deviceId, key: credentials.deviceKey }
      : { type: 'x509', hostName: where.host, deviceId, certificate: { chain: credentials.clientCertificates, privateKey: credentials.clientKey } };
  const target: HubTarget = { credentials: hub };
  if (override !== undefined) target.endpoint = { host: override.host, port: override.port };
  else if (where.port !== HUB_DEFAULT_PORT) target.endpoint = { host: where.host, port: where.port };
  return target;
}

export function hubTargetFromCredentials(credentials: HubCredentials, override: HostPort | undefined): HubTarget {
  const target: HubTarget = { credentials };
  if (override !== undefined) target.endpoint = { host: override.host, port: override.port };
  return target;
}
