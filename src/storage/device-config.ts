// How this device reaches Azure: a fixed hub identity (from a connection string) or DPS inputs, which security
// tags hold its credentials, and how tag CAs combine with the default roots. Secrets never live here: keys and
// certificates stay in the security tags, so this record can be listed and logged freely.

import { checkDeviceId, checkHostName, checkModuleId } from '../azure/identifiers';
import type { CredentialKind } from '../identity';
import type { KeyValueStore } from '../ports';
import type { TrustMode } from '../trust/trust-store';
import { checkDpsInputs, parseDpsInputs, type DpsInputs } from './assignment-store';
import { isNonEmptyString, isObject, JsonRecordSlot } from './json-record';
import { RecordKind, type RecordFault } from './record';
import { isTagNumber, MAX_TAG, type TagSelection } from './security-tags';
import { invalidField, type StorageWrite } from './storage-result';
import { err, ok, type Result } from '../result';

/** A hub identity without its key (the key is in the primary tag). */
export interface StoredHub {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  /** Connect here (an IoT Edge gateway) while signing for `hostName`. */
  gatewayHostName?: string;
  auth: CredentialKind;
}

export interface DeviceConfig {
  /** Set when the device connects straight to a known hub. */
  hub?: StoredHub;
  /** Set when the device is provisioned through DPS. */
  dps?: DpsInputs;
  tags: TagSelection;
  trust: TrustMode;
}

export type DeviceConfigLoad = Result<DeviceConfig, RecordFault>;

export const DEVICE_CONFIG_KEY = 'device.config';

export class DeviceConfigStore {
  private readonly record: JsonRecordSlot;

  constructor(store: KeyValueStore, key: string = DEVICE_CONFIG_KEY) {
    this.record = new JsonRecordSlot(store, key, RecordKind.deviceConfig, 1);
  }

  load(): DeviceConfigLoad {
    const read = this.record.read();
    if (!read.ok) return read;
    const config = parseDeviceConfig(read.value);
    return config ? ok(config) : err({ code: 'bad-body', message: `${this.record.key} does not hold a valid configuration` });
  }

  save(config: DeviceConfig): StorageWrite {
    const problem = checkDeviceConfig(config);
    if (problem) return problem;
    return this.record.write(copyConfig(config));
  }

  reset(): StorageWrite {
    return this.record.remove();
  }
}

export function checkDeviceConfig(config: DeviceConfig): StorageWrite | undefined {
  if (!isObject(config)) return invalidField('config', 'must be an object');
  if (config.hub !== undefined) {
    const hub = config.hub;
    if (!isObject(hub)) return invalidField('hub', 'must be an object');
    if (!isNonEmptyString(hub.hostName)) return invalidField('hub.hostName', 'must be a non-empty string');
    if (!isNonEmptyString(hub.deviceId)) return invalidField('hub.deviceId', 'must be a non-empty string');
    if (hub.moduleId !== undefined && !isNonEmptyString(hub.moduleId)) return invalidField('hub.moduleId', 'must be a non-empty string');
    if (hub.gatewayHostName !== undefined && !isNonEmptyString(hub.gatewayHostName)) {
      return invalidField('hub.gatewayHostName', 'must be a non-empty string');
    }
    if (hub.auth !== 'symmetric-key' && hub.auth !== 'x509') return invalidField('hub.auth', 'must be symmetric-key or x509');
    // The rules the hub client applies when it connects: a stored value that passes here never fails there.
    const checks: Array<[string, string | undefined, (text: string, field: string) => Result<unknown, { message: string }>]> = [
      ['hub.hostName', hub.hostName, checkHostName],
      ['hub.deviceId', hub.deviceId, checkDeviceId],
      ['hub.moduleId', hub.moduleId, checkModuleId],
      ['hub.gatewayHostName', hub.gatewayHostName, checkHostName],
    ];
    for (const [field, value, check] of checks) {
      if (value === undefined) continue;
      const checked = check(value, field);
      if (!checked.ok) return err({ code: 'invalid-field', field, message: checked.error.message });
    }
  }
  if (config.dps !== undefined) {
    const dps = checkDpsInputs(config.dps);
    if (dps) return dps;
  }
  if (!isObject(config.tags) || !isTagNumber(config.tags.primary)) return invalidField('tags.primary', `must be an integer 0..${MAX_TAG}`);
  if (config.tags.secondary !== undefined && !isTagNumber(config.tags.secondary)) {
    return invalidField('tags.secondary', `must be an integer 0..${MAX_TAG}`);
  }
  if (config.trust !== 'extend' && config.trust !== 'override') return invalidField('trust', 'must be extend or override');
  return undefined;
}

function copyConfig(config: DeviceConfig): DeviceConfig {
  const copy: DeviceConfig = { tags: { primary: config.tags.primary }, trust: config.trust };
  if (config.tags.secondary !== undefined) copy.tags.secondary = config.tags.secondary;
  if (config.hub) {
    const { hostName, deviceId, moduleId, gatewayHostName, auth } = config.hub;
    copy.hub = { hostName, deviceId, auth };
    if (moduleId !== undefined) copy.hub.moduleId = moduleId;
    if (gatewayHostName !== undefined) copy.hub.gatewayHostName = gatewayHostName;
  }
  if (config.dps) {
    const { globalEndpoint, idScope, registrationId, attestation } = config.dps;
    copy.dps = { globalEndpoint, idScope, registrationId, attestation };
  }
  return copy;
}

function parseDeviceConfig(value: unknown): DeviceConfig | undefined {
  if (!isObject(value)) return undefined;
  const candidate: DeviceConfig = { tags: value.tags as TagSelection, trust: value.trust as TrustMode };
  if (value.hub !== undefined) candidate.hub = value.hub as StoredHub;
  if (value.dps !== undefined) {
    const dps = parseDpsInputs(value.dps);
    if (!dps) return undefined;
    candidate.dps = dps;
  }
  // The same checks as a save: whatever passes them is a configuration this firmware could have written.
  return checkDeviceConfig(candidate) ? undefined : copyConfig(candidate);
}
