// The emulator's enrollment list: validates what people and tests add, answers the attestation lookups.
// Individual enrollments are found by registration id (case-insensitively, as Azure compares them);
// an individual enrollment always wins over groups for its registration id.
import { createHmac, X509Certificate } from 'node:crypto';
import { isValidIdentityId } from '../registry';
import { isValidRegistrationId } from './dps-topics';
import {
  EnrollmentError,
  type EnrollmentBehaviour,
  type GroupAttestation,
  type GroupEnrollment,
  type GroupEnrollmentInput,
  type IndividualEnrollment,
  type IndividualEnrollmentInput,
  type StoredIndividualAttestation,
} from './enrollment-types';

/** Changes to an enrollment's behaviour; `null` removes a setting (back to its default). */
export type EnrollmentPatch = { [K in keyof EnrollmentBehaviour]?: EnrollmentBehaviour[K] | null };

/** The device key of a symmetric-key group member: base64(HMAC-SHA256(base64decode(groupKey), registrationId)). */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId, 'utf8').digest('base64');
}

export function normalizeThumbprint(value: string): string {
  return value.replace(/[:\s]/g, '').toUpperCase();
}

function invalid(message: string): EnrollmentError {
  return new EnrollmentError('invalid', message);
}

function checkKey(name: string, key: unknown): string {
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
    throw invalid(`${name} must be a base64 string`);
  }
  const length = Buffer.from(key, 'base64').length;
  if (length < 16 || length > 64) throw invalid(`${name} must decode to 16..64 bytes`);
  return key;
}

function checkThumbprint(name: string, value: unknown): string {
  const normalized = typeof value === 'string' ? normalizeThumbprint(value) : '';
  if (!/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(normalized)) throw invalid(`${name} must be 40 (SHA-1) or 64 (SHA-256) hex digits`);
  return normalized;
}

function parseCertificate(name: string, pem: unknown): X509Certificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) throw invalid(`${name} must be a PEM certificate`);
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid(`${name} is not a readable certificate`);
  }
}

function sha256Thumbprint(certificate: X509Certificate): string {
  return certificate.fingerprint256.replace(/:/g, '').toUpperCase();
}

function checkIndividualAttestation(attestation: IndividualEnrollmentInput['attestation']): StoredIndividualAttestation {
  if (attestation?.type === 'symmetricKey') {
    return {
      type: 'symmetricKey',
      primaryKey: checkKey('primaryKey', attestation.primaryKey),
      secondaryKey: checkKey('secondaryKey', attestation.secondaryKey),
    };
  }
  if (attestation?.type === 'x509') {
    const pick = (slot: 'primary' | 'secondary'): string | undefined => {
      const thumb = attestation[`${slot}Thumbprint`];
      const pem = attestation[`${slot}CertPem`];
      if (thumb !== undefined && pem !== undefined) throw invalid(`give ${slot}Thumbprint or ${slot}CertPem, not both`);
      if (thumb !== undefined) return checkThumbprint(`${slot}Thumbprint`, thumb);
      if (pem !== undefined) return sha256Thumbprint(parseCertificate(`${slot}CertPem`, pem));
      return undefined;
    };
    const primary = pick('primary');
    const secondary = pick('secondary');
    if (primary === undefined) throw invalid('an X.509 enrollment needs primaryThumbprint or primaryCertPem');
    return secondary === undefined
      ? { type: 'x509', primaryThumbprint: primary }
      : { type: 'x509', primaryThumbprint: primary, secondaryThumbprint: secondary };
  }
  throw invalid('attestation.type must be symmetricKey or x509');
}

function checkGroupAttestation(attestation: GroupEnrollmentInput['attestation']): GroupAttestation {
  if (attestation?.type === 'symmetricKey') {
    return {
      type: 'symmetricKey',
      primaryKey: checkKey('primaryKey', attestation.primaryKey),
      secondaryKey: checkKey('secondaryKey', attestation.secondaryKey),
    };
  }
  if (attestation?.type === 'x509-ca') {
    if (!parseCertificate('caCertPem', attestation.caCertPem).ca) throw invalid('caCertPem is not a CA certificate');
    return { type: 'x509-ca', caCertPem: attestation.caCertPem };
  }
  throw invalid('attestation.type must be symmetricKey or x509-ca');
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Validates and copies the behaviour settings; only the keys present are copied. */
function checkBehaviour(input: EnrollmentBehaviour): EnrollmentBehaviour {
  const out: EnrollmentBehaviour = {};
  if (input.deviceId !== undefined) {
    if (typeof input.deviceId !== 'string' || !isValidIdentityId(input.deviceId.split('{registrationId}').join('x'))) {
      throw invalid('deviceId must be a valid device id (it may contain {registrationId})');
    }
    out.deviceId = input.deviceId;
  }
  if (input.provisioningStatus !== undefined) {
    if (input.provisioningStatus !== 'enabled' && input.provisioningStatus !== 'disabled') {
      throw invalid('provisioningStatus must be enabled or disabled');
    }
    out.provisioningStatus = input.provisioningStatus;
  }
  if (input.failure !== undefined) {
    const failure = input.failure;
    if (typeof failure !== 'object' || failure === null || typeof failure.message !== 'string') {
      throw invalid('failure must be { errorCode, message }');
    }
    out.failure = { errorCode: checkInteger('failure.errorCode', failure.errorCode, 100000, 599999), message: failure.message };
  }
  if (input.pollsBeforeAssigned !== undefined) out.pollsBeforeAssigned = checkInteger('pollsBeforeAssigned', input.pollsBeforeAssigned, 0, 1000);
  if (input.retryAfterSeconds !== undefined) out.retryAfterSeconds = checkInteger('retryAfterSeconds', input.retryAfterSeconds, 0, 3600);
  if (input.assignedHub !== undefined) {
    if (typeof input.assignedHub !== 'string' || !/^[A-Za-z0-9.\-:]+$/.test(input.assignedHub)) throw invalid('assignedHub must be a host name');
    out.assignedHub = input.assignedHub;
  }
  if (input.initialTwin !== undefined) {
    if (typeof input.initialTwin !== 'object' || input.initialTwin === null) throw invalid('initialTwin must be an object');
    out.initialTwin = structuredClone(input.initialTwin);
  }
  if (input.responsePayload !== undefined) out.responsePayload = structuredClone(input.responsePayload);
  if (input.deviceTemplates !== undefined) {
    if (!Array.isArray(input.deviceTemplates) || input.deviceTemplates.some((m) => typeof m !== 'string')) throw invalid('deviceTemplates must be a list of model ids');
    out.deviceTemplates = [...input.deviceTemplates];
  }
  if (input.reprovisionPolicy !== undefined) {
    if (input.reprovisionPolicy !== 'migrate' && input.reprovisionPolicy !== 'reset') throw invalid('reprovisionPolicy must be migrate or reset');
    out.reprovisionPolicy = input.reprovisionPolicy;
  }
  if (input.emptyOperationId !== undefined) {
    if (typeof input.emptyOperationId !== 'boolean') throw invalid('emptyOperationId must be true or false');
    out.emptyOperationId = input.emptyOperationId;
  }
  return out;
}

const BEHAVIOUR_KEYS: (keyof EnrollmentBehaviour)[] = [
  'deviceId',
  'provisioningStatus',
  'failure',
  'pollsBeforeAssigned',
  'retryAfterSeconds',
  'assignedHub',
  'initialTwin',
  'responsePayload',
  'deviceTemplates',
  'reprovisionPolicy',
  'emptyOperationId',
];

function pickBehaviour(input: EnrollmentBehaviour): EnrollmentBehaviour {
  const out: Record<string, unknown> = {};
  for (const key of BEHAVIOUR_KEYS) if (input[key] !== undefined) out[key] = input[key];
  return checkBehaviour(out as EnrollmentBehaviour);
}

function applyPatch<T extends EnrollmentBehaviour>(target: T, patch: EnrollmentPatch): T {
  const merged: Record<string, unknown> = { ...(target as unknown as Record<string, unknown>) };
  for (const key of BEHAVIOUR_KEYS) {
    if (!(key in patch)) continue;
    if (patch[key] === null || patch[key] === undefined) delete merged[key];
    else merged[key] = patch[key];
  }
  const checked = pickBehaviour(merged as EnrollmentBehaviour);
  const result: Record<string, unknown> = { ...(target as unknown as Record<string, unknown>) };
  for (const key of BEHAVIOUR_KEYS) delete result[key];
  return { ...result, ...checked } as unknown as T;
}

export class EnrollmentStore {
  private readonly individuals = new Map<string, IndividualEnrollment>();
  private readonly groups = new Map<string, GroupEnrollment>();
  private readonly changeListeners: Array<() => void> = [];

  /** Called after every change (add, update, remove), e.g. to save the enrollments for the next start. */
  onChange(listener: () => void): () => void {
    this.changeListeners.push(listener);
    return () => {
      const i = this.changeListeners.indexOf(listener);
      if (i >= 0) this.changeListeners.splice(i, 1);
    };
  }

  private changed<T>(result: T): T {
    for (const listener of this.changeListeners.slice()) listener();
    return result;
  }

  /** Adds an individual enrollment; with `replace`, an existing one for the same registration id is overwritten. */
  addIndividual(input: IndividualEnrollmentInput, options: { replace?: boolean } = {}): IndividualEnrollment {
    if (typeof input?.registrationId !== 'string' || !isValidRegistrationId(input.registrationId)) {
      throw invalid('registrationId must be 1-128 letters, digits, - . _ : ending with a letter, digit or -');
    }
    const key = input.registrationId.toLowerCase();
    if (this.individuals.has(key) && !options.replace) {
      throw new EnrollmentError('duplicate', `individual enrollment ${input.registrationId} exists already`);
    }
    const enrollment: IndividualEnrollment = {
      kind: 'individual',
      registrationId: input.registrationId,
      attestation: checkIndividualAttestation(input.attestation),
      ...pickBehaviour(input),
      createdDateTimeUtc: new Date().toISOString(),
    };
    this.individuals.set(key, enrollment);
    return this.changed(structuredClone(enrollment));
  }

  addGroup(input: GroupEnrollmentInput, options: { replace?: boolean } = {}): GroupEnrollment {
    if (typeof input?.enrollmentGroupId !== 'string' || !isValidRegistrationId(input.enrollmentGroupId)) {
      throw invalid('enrollmentGroupId must be 1-128 letters, digits, - . _ : ending with a letter, digit or -');
    }
    const key = input.enrollmentGroupId.toLowerCase();
    if (this.groups.has(key) && !options.replace) {
      throw new EnrollmentError('duplicate', `enrollment group ${input.enrollmentGroupId} exists already`);
    }
    const enrollment: GroupEnrollment = {
      kind: 'group',
      enrollmentGroupId: input.enrollmentGroupId,
      attestation: checkGroupAttestation(input.attestation),
      ...pickBehaviour(input),
      createdDateTimeUtc: new Date().toISOString(),
    };
    this.groups.set(key, enrollment);
    return this.changed(structuredClone(enrollment));
  }

  /** Changes behaviour settings (status, failure, polls, ...) of an existing enrollment. */
  updateIndividual(registrationId: string, patch: EnrollmentPatch): IndividualEnrollment {
    const key = String(registrationId).toLowerCase();
    const current = this.individuals.get(key);
    if (!current) throw new EnrollmentError('not-found', `no individual enrollment ${registrationId}`);
    const updated = applyPatch(current, patch);
    this.individuals.set(key, updated);
    return this.changed(structuredClone(updated));
  }

  updateGroup(enrollmentGroupId: string, patch: EnrollmentPatch): GroupEnrollment {
    const key = String(enrollmentGroupId).toLowerCase();
    const current = this.groups.get(key);
    if (!current) throw new EnrollmentError('not-found', `no enrollment group ${enrollmentGroupId}`);
    const updated = applyPatch(current, patch);
    this.groups.set(key, updated);
    return this.changed(structuredClone(updated));
  }

  removeIndividual(registrationId: string): boolean {
    const removed = this.individuals.delete(String(registrationId).toLowerCase());
    return removed ? this.changed(removed) : removed;
  }

  removeGroup(enrollmentGroupId: string): boolean {
    const removed = this.groups.delete(String(enrollmentGroupId).toLowerCase());
    return removed ? this.changed(removed) : removed;
  }

  getIndividual(registrationId: string): IndividualEnrollment | undefined {
    const found = this.individuals.get(String(registrationId).toLowerCase());
    return found && structuredClone(found);
  }

  getGroup(enrollmentGroupId: string): GroupEnrollment | undefined {
    const found = this.groups.get(String(enrollmentGroupId).toLowerCase());
    return found && structuredClone(found);
  }

  list(): { individual: IndividualEnrollment[]; groups: GroupEnrollment[] } {
    return {
      individual: [...this.individuals.values()].map((e) => structuredClone(e)),
      groups: [...this.groups.values()].map((e) => structuredClone(e)),
    };
  }

  /** Snapshot of the groups with the given attestation type, oldest first. */
  groupsOfType<T extends GroupAttestation['type']>(type: T): (GroupEnrollment & { attestation: Extract<GroupAttestation, { type: T }> })[] {
    return [...this.groups.values()]
      .filter((g): g is GroupEnrollment & { attestation: Extract<GroupAttestation, { type: T }> } => g.attestation.type === type)
      .map((g) => structuredClone(g));
  }
}
