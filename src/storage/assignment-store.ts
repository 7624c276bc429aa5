// Where DPS put this device, kept so later boots go straight to the hub. The record also remembers the DPS
// inputs that produced it: when the configuration changes (new scope, new registration id, other attestation),
// the old assignment no longer describes this device and must read as absent so the device provisions again.
// A record whose checksum holds but whose hub host or device id would not pass the hub's identifier checks
// (written by older firmware, or by hand) reads as absent too: used, it would stop every boot at the hub.

import { checkDeviceId, checkHostName, checkIdScope, checkRegistrationId } from '../azure/identifiers';
import { CREDENTIAL_KINDS, type CredentialKind } from '../identity';
import { err } from '../result';
import type { KeyValueStore } from '../ports';
import { isNonEmptyString, isObject, JsonRecordSlot } from './json-record';
import { RecordKind, type RecordFaultCode } from './record';
import { invalidField, type StorageWrite } from './storage-result';


/** The inputs of a DPS registration; an assignment is valid only for the inputs it was obtained with. */
export interface DpsInputs {
  globalEndpoint: string;
  idScope: string;
  registrationId: string;
  attestation: CredentialKind;
}

export interface Assignment {
  hubHost: string;
  deviceId: string;
  dps: DpsInputs;
  /** Unix ms when DPS assigned the device, if the clock was set. */
  assignedAt?: number;
  /** DPS substatus, e.g. `initialAssignment`, `deviceDataMigrated`, `reprovisionedToInitialAssignment`. */
  substatus?: string;
}

export type AssignmentAbsenceCode = RecordFaultCode | 'inputs-changed';

export type AssignmentLoad =
  | { status: 'assigned'; assignment: Assignment }
  | { status: 'absent'; code: AssignmentAbsenceCode; message: string };

export const ASSIGNMENT_KEY = 'dps.assignment';

export class AssignmentStore {
  private readonly record: JsonRecordSlot;

  constructor(store: KeyValueStore, key: string = ASSIGNMENT_KEY) {
    this.record = new JsonRecordSlot(store, key, RecordKind.assignment, 1);
  }

  /** The stored assignment if it is intact and was obtained with `current`; otherwise why it counts as absent. */
  load(current: DpsInputs): AssignmentLoad {
    const stored = this.peek();
    if (stored.status === 'absent') return stored;
    const { assignment } = stored;
    const changed = changedInputs(assignment.dps, current);
    if (changed.length > 0) {
      return { status: 'absent', code: 'inputs-changed', message: `DPS ${changed.join(', ')} changed since the device was assigned` };
    }
    return { status: 'assigned', assignment };
  }

  /** The stored assignment whatever DPS inputs it was obtained with (for listing); damaged records are absent. */
  peek(): AssignmentLoad {
    const read = this.record.read();
    if (!read.ok) return { status: 'absent', code: read.error.code, message: read.error.message };
    const assignment = parseAssignment(read.value);
    if (!assignment) return { status: 'absent', code: 'bad-body', message: `${this.record.key} does not hold a complete assignment` };
    const malformed = checkIdentity(assignment);
    if (malformed) return { status: 'absent', code: 'bad-body', message: `${this.record.key} holds a malformed assignment: ${malformed.message}` };
    return { status: 'assigned', assignment };
  }

  /** Replaces the stored assignment in one write. */
  save(assignment: Assignment): StorageWrite {
    const problem = checkAssignment(assignment);
    if (problem) return problem;
    const body: Assignment = { hubHost: assignment.hubHost, deviceId: assignment.deviceId, dps: copyInputs(assignment.dps) };
    if (assignment.assignedAt !== undefined) body.assignedAt = assignment.assignedAt;
    if (assignment.substatus !== undefined) body.substatus = assignment.substatus;
    return this.record.write(body);
  }

  /** Forgets the assignment: the next boot provisions again. */
  reset(): StorageWrite {
    return this.record.remove();
  }
}

/** Which DPS inputs differ (names only). The global endpoint is a host name, so its case does not matter. */
export function changedInputs(stored: DpsInputs, current: DpsInputs): string[] {
  const changed: string[] = [];
  if (stored.globalEndpoint.toLowerCase() !== current.globalEndpoint.toLowerCase()) changed.push('globalEndpoint');
  if (stored.idScope !== current.idScope) changed.push('idScope');
  if (stored.registrationId !== current.registrationId) changed.push('registrationId');
  if (stored.attestation !== current.attestation) changed.push('attestation');
  return changed;
}

export function checkDpsInputs(dps: DpsInputs | undefined, prefix = 'dps'): StorageWrite | undefined {
  if (!isObject(dps)) return invalidField(prefix, 'is required');
  if (!isNonEmptyString(dps.globalEndpoint)) return invalidField(`${prefix}.globalEndpoint`, 'must be a non-empty string');
  if (!isNonEmptyString(dps.idScope)) return invalidField(`${prefix}.idScope`, 'must be a non-empty string');
  if (!isNonEmptyString(dps.registrationId)) return invalidField(`${prefix}.registrationId`, 'must be a non-empty string');
  if (!CREDENTIAL_KINDS.includes(dps.attestation)) return invalidField(`${prefix}.attestation`, `must be one of ${CREDENTIAL_KINDS.join(', ')}`);
  // The same rules the DPS client applies when it dials: a value that passes here never fails there.
  for (const [field, check] of [
    ['globalEndpoint', checkHostName],
    ['idScope', checkIdScope],
    ['registrationId', checkRegistrationId],
  ] as const) {
    const checked = check(dps[field], `${prefix}.${field}`);
    if (!checked.ok) return err({ code: 'invalid-field', field: `${prefix}.${field}`, message: checked.error.message });
  }
  return undefined;
}

export function parseDpsInputs(value: unknown): DpsInputs | undefined {
  if (!isObject(value)) return undefined;
  const { globalEndpoint, idScope, registrationId, attestation } = value;
  if (!isNonEmptyString(globalEndpoint) || !isNonEmptyString(idScope) || !isNonEmptyString(registrationId)) return undefined;
  if (!CREDENTIAL_KINDS.includes(attestation as CredentialKind)) return undefined;
  return { globalEndpoint, idScope, registrationId, attestation: attestation as CredentialKind };
}

function copyInputs(dps: DpsInputs): DpsInputs {
  return { globalEndpoint: dps.globalEndpoint, idScope: dps.idScope, registrationId: dps.registrationId, attestation: dps.attestation };
}

/** Which of the hub host and device id fails the identifier checks, and how; undefined when both pass. */
function checkIdentity(a: Assignment): { field: string; message: string } | undefined {
  const host = checkHostName(a.hubHost, 'hubHost');
  if (!host.ok) return { field: 'hubHost', message: host.error.message };
  const device = checkDeviceId(a.deviceId, 'deviceId');
  if (!device.ok) return { field: 'deviceId', message: device.error.message };
  return undefined;
}

function checkAssignment(a: Assignment): StorageWrite | undefined {
  if (!isNonEmptyString(a.hubHost)) return invalidField('hubHost', 'must be a non-empty string');
  if (!isNonEmptyString(a.deviceId)) return invalidField('deviceId', 'must be a non-empty string');
  const malformed = checkIdentity(a);
  if (malformed) return err({ code: 'invalid-field', ...malformed });
  const dps = checkDpsInputs(a.dps);
  if (dps) return dps;
  if (a.assignedAt !== undefined && !(Number.isFinite(a.assignedAt) && a.assignedAt >= 0)) {
    return invalidField('assignedAt', 'must be a non-negative number of Unix ms');
  }
  if (a.substatus !== undefined && typeof a.substatus !== 'string') return invalidField('substatus', 'must be a string');
  return undefined;
}

function parseAssignment(value: unknown): Assignment | undefined {
  if (!isObject(value)) return undefined;
  const { hubHost, deviceId, assignedAt, substatus } = value;
  const dps = parseDpsInputs(value.dps);
  if (!isNonEmptyString(hubHost) || !isNonEmptyString(deviceId) || !dps) return undefined;
  const assignment: Assignment = { hubHost, deviceId, dps };
  if (assignedAt !== undefined) {
    if (typeof assignedAt !== 'number' || !Number.isFinite(assignedAt)) return undefined;
    assignment.assignedAt = assignedAt;
  }
  if (substatus !== undefined) {
    if (typeof substatus !== 'string') return undefined;
    assignment.substatus = substatus;
  }
  return assignment;
}
