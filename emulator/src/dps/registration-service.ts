// The DPS registration flow without any MQTT: register and poll requests in, status + JSON body out.
// An operation answers 202 `assigning` until it has seen the enrollment's `pollsBeforeAssigned` polls, then
// settles once (assigned, failed or disabled) and answers every later poll with the same final body.
import { randomUUID } from 'node:crypto';
import type { Attested } from './attestation';
import type { EnrollmentStore } from './enrollment-store';
import type { EnrollmentBehaviour, GroupEnrollment, IndividualEnrollment } from './enrollment-types';

export interface DpsResponse {
  status: number;
  body: unknown;
  retryAfterSeconds?: number;
}

/** What the connection knows about the device making the request. */
export interface RequestSession {
  registrationId: string;
  attested?: Attested;
  /** Set when the CONNECT was accepted but no enrollment matched: every request gets 401. */
  unauthorizedReason?: string;
}

export type FinalStatus = 'assigned' | 'failed' | 'disabled';

export type Substatus = 'initialAssignment' | 'deviceDataMigrated' | 'deviceDataReset' | 'reprovisionedToInitialAssignment';

export interface RegistrationRecord {
  registrationId: string;
  enrollment: { kind: 'individual'; registrationId: string } | { kind: 'group'; enrollmentGroupId: string };
  status: FinalStatus;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  etag: string;
  assignedHub?: string;
  deviceId?: string;
  substatus?: Substatus;
  errorCode?: number;
  errorMessage?: string;
  payload?: unknown;
  /** With `deviceTemplates` on the enrollment: the template the model id picked, or `unassigned`. */
  deviceTemplate?: string;
}

export interface Assignment {
  registrationId: string;
  deviceId: string;
  assignedHub: string;
  substatus: Substatus;
  attested: Attested;
  initialTwin?: EnrollmentBehaviour['initialTwin'];
}

export interface RegistrationServiceOptions {
  store: EnrollmentStore;
  hubHostName: string;
  /** Creates or updates the hub identity; throwing turns the registration into `failed`. */
  assign(assignment: Assignment): void;
  nowMs?: () => number;
  newId?: () => string;
}

const MAX_OPERATIONS = 10_000;

interface Operation {
  operationId: string;
  registrationId: string;
  attested: Attested;
  requestPayload: unknown;
  pollsSeen: number;
  pollsNeeded: number;
  retryAfterSeconds: number;
  final?: DpsResponse;
}

export function errorBody(errorCode: number, message: string, trackingId: string, nowIso: string): Record<string, unknown> {
  return { errorCode, trackingId, message, timestampUtc: nowIso };
}

function expandDeviceId(template: string | undefined, registrationId: string): string {
  return (template ?? '{registrationId}').split('{registrationId}').join(registrationId);
}

export class RegistrationService {
  private readonly operations = new Map<string, Operation>();
  private readonly records = new Map<string, RegistrationRecord>();
  private readonly nowMs: () => number;
  private readonly newId: () => string;

  constructor(private readonly options: RegistrationServiceOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.newId = options.newId ?? randomUUID;
  }

  private nowIso(): string {
    return new Date(this.nowMs()).toISOString();
  }

  private error(status: number, errorCode: number, message: string, retryAfterSeconds?: number): DpsResponse {
    const response: DpsResponse = { status, body: errorBody(errorCode, message, this.newId(), this.nowIso()) };
    if (retryAfterSeconds !== undefined) response.retryAfterSeconds = retryAfterSeconds;
    return response;
  }

  /** The enrollment as it is now (it may have been changed or removed since the CONNECT). */
  private currentEnrollment(attested: Attested): IndividualEnrollment | GroupEnrollment | undefined {
    const e = attested.enrollment;
    return e.kind === 'individual' ? this.options.store.getIndividual(e.registrationId) : this.options.store.getGroup(e.enrollmentGroupId);
  }

  register(session: RequestSession, body: Uint8Array): DpsResponse {
    if (session.unauthorizedReason !== undefined || !session.attested) {
      return this.error(401, 401002, `The device is not authorized: ${session.unauthorizedReason ?? 'no attestation'}.`);
    }
    const enrollment = this.currentEnrollment(session.attested);
    if (!enrollment) return this.error(401, 401002, 'The device is not authorized: its enrollment was removed.');

    let request: unknown;
    try {
      request = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      return this.error(400, 400000, 'The register request body is not JSON.');
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return this.error(400, 400000, 'The register request body must be a JSON object.');
    }
    const { registrationId, payload } = request as { registrationId?: unknown; payload?: unknown };
    if (typeof registrationId !== 'string') return this.error(400, 400000, 'The register request lacks registrationId.');
    if (registrationId.toLowerCase() !== session.registrationId.toLowerCase()) {
      return this.error(400, 400000, 'registrationId in the body differs from the one the device connected with.');
    }

    const operation: Operation = {
      operationId: `4.${this.newId().replace(/-/g, '').slice(0, 16)}.${this.newId()}`,
      registrationId: session.registrationId,
      attested: { ...session.attested, enrollment } as Attested,
      requestPayload: payload,
      pollsSeen: 0,
      pollsNeeded: enrollment.pollsBeforeAssigned ?? 1,
      retryAfterSeconds: enrollment.retryAfterSeconds ?? 1,
    };
    this.remember(operation);
    if (operation.pollsNeeded === 0) return this.settle(operation);
    return {
      status: 202,
      body: { operationId: operation.operationId, status: 'assigning' },
      retryAfterSeconds: operation.retryAfterSeconds,
    };
  }

  poll(session: RequestSession, operationId: string): DpsResponse {
    if (session.unauthorizedReason !== undefined || !session.attested) {
      return this.error(401, 401002, `The device is not authorized: ${session.unauthorizedReason ?? 'no attestation'}.`);
    }
    const operation = this.operations.get(operationId);
    if (!operation || operation.registrationId.toLowerCase() !== session.registrationId.toLowerCase()) {
      return this.error(404, 404000, 'No registration operation with this operationId for this device.');
    }
    if (operation.final) return operation.final;
    operation.pollsSeen += 1;
    if (operation.pollsSeen >= operation.pollsNeeded) return this.settle(operation);
    return {
      status: 202,
      body: { operationId, status: 'assigning', registrationState: { registrationId: operation.registrationId, status: 'assigning' } },
      retryAfterSeconds: operation.retryAfterSeconds,
    };
  }

  private remember(operation: Operation): void {
    if (this.operations.size >= MAX_OPERATIONS) {
      const oldest = this.operations.keys().next().value;
      if (oldest !== undefined) this.operations.delete(oldest);
    }
    this.operations.set(operation.operationId, operation);
  }

  private settle(operation: Operation): DpsResponse {
    const { registrationId, attested } = operation;
    const enrollment = attested.enrollment;
    const key = registrationId.toLowerCase();
    const previous = this.records.get(key);
    const now = this.nowIso();
    const record: RegistrationRecord = {
      registrationId,
      enrollment:
        enrollment.kind === 'individual'
          ? { kind: 'individual', registrationId: enrollment.registrationId }
          : { kind: 'group', enrollmentGroupId: enrollment.enrollmentGroupId },
      status: 'assigned',
      createdDateTimeUtc: previous?.createdDateTimeUtc ?? now,
      lastUpdatedDateTimeUtc: now,
      etag: Buffer.from(JSON.stringify(this.newId())).toString('base64'),
    };

    if (enrollment.provisioningStatus === 'disabled') {
      record.status = 'disabled';
    } else if (enrollment.failure) {
      record.status = 'failed';
      record.errorCode = enrollment.failure.errorCode;
      record.errorMessage = enrollment.failure.message;
    } else {
      const deviceId = expandDeviceId(enrollment.deviceId, registrationId);
      const assignedHub = enrollment.assignedHub ?? this.options.hubHostName;
      let substatus: Substatus = 'initialAssignment';
      if (previous?.status === 'assigned') {
        if (previous.assignedHub === assignedHub) substatus = 'reprovisionedToInitialAssignment';
        else substatus = enrollment.reprovisionPolicy === 'reset' ? 'deviceDataReset' : 'deviceDataMigrated';
      }
      try {
        const assignment: Assignment = { registrationId, deviceId, assignedHub, substatus, attested };
        if (enrollment.initialTwin) assignment.initialTwin = structuredClone(enrollment.initialTwin);
        this.options.assign(assignment);
        record.assignedHub = assignedHub;
        record.deviceId = deviceId;
        record.substatus = substatus;
        const payload = enrollment.responsePayload ?? operation.requestPayload;
        if (payload !== undefined) record.payload = structuredClone(payload);
        if (enrollment.deviceTemplates !== undefined) {
          const modelId = (operation.requestPayload as { modelId?: unknown } | undefined)?.modelId;
          record.deviceTemplate = typeof modelId === 'string' && enrollment.deviceTemplates.includes(modelId) ? modelId : 'unassigned';
        }
      } catch (error) {
        record.status = 'failed';
        record.errorCode = 500000;
        record.errorMessage = `The hub refused the device: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    this.records.set(key, record);
    const short = enrollment.emptyOperationId === true;
    const state = short && record.status === 'disabled' ? { registrationId: record.registrationId, status: 'disabled' } : registrationState(record);
    operation.final = { status: 200, body: { operationId: short ? '' : operation.operationId, status: record.status, registrationState: state } };
    return operation.final;
  }

  registrations(): RegistrationRecord[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  getRegistration(registrationId: string): RegistrationRecord | undefined {
    const found = this.records.get(registrationId.toLowerCase());
    return found && structuredClone(found);
  }

  /** Forgets a device's registration, so its next one is an initial assignment again. */
  deleteRegistration(registrationId: string): boolean {
    return this.records.delete(registrationId.toLowerCase());
  }
}

/** The `registrationState` object of a final answer, in the field order DPS uses. */
export function registrationState(record: RegistrationRecord): Record<string, unknown> {
  const state: Record<string, unknown> = { registrationId: record.registrationId, createdDateTimeUtc: record.createdDateTimeUtc };
  if (record.status === 'assigned') {
    state.assignedHub = record.assignedHub;
    state.deviceId = record.deviceId;
  }
  state.status = record.status;
  if (record.substatus !== undefined) state.substatus = record.substatus;
  if (record.errorCode !== undefined) {
    state.errorCode = record.errorCode;
    state.errorMessage = record.errorMessage;
  }
  state.lastUpdatedDateTimeUtc = record.lastUpdatedDateTimeUtc;
  state.etag = record.etag;
  if (record.payload !== undefined) state.payload = record.payload;
  return structuredClone(state);
}
