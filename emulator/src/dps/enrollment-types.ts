// The shapes of DPS enrollments as the emulator stores them and as the CLI and tests create them.

/** How the registration ends, for every device of the enrollment. */
export interface EnrollmentBehaviour {
  /** Device id on the hub; `{registrationId}` is replaced. Default: the registration id. */
  deviceId?: string;
  /** `disabled` makes every registration end with status `disabled`. Default `enabled`. */
  provisioningStatus?: 'enabled' | 'disabled';
  /** When set, registrations end with status `failed` and this error in the registration state. */
  failure?: { errorCode: number; message: string };
  /** How many status polls answer 202 `assigning` before the final answer; 0 answers the register request itself. Default 1. */
  pollsBeforeAssigned?: number;
  /** Whole seconds put in `retry-after` of 202 answers (devices read integers). Default 1. */
  retryAfterSeconds?: number;
  /** Hub to assign; defaults to the emulator's hub. */
  assignedHub?: string;
  /** Twin the device starts with on the hub (reported to the server's `onAssigned` listeners). */
  initialTwin?: { tags?: Record<string, unknown>; desired?: Record<string, unknown> };
  /**
   * IoT Central's side: the model ids of the application's published device templates. A registration whose
   * `payload.modelId` is one of them is recorded with that template; any other is recorded as `unassigned` (IoT
   * Central provisions it all the same and waits for someone to pick a template).
   */
  deviceTemplates?: string[];
  /** Returned as `registrationState.payload` instead of echoing the device's request payload. */
  responsePayload?: unknown;
  /** What a re-registration that lands on a different hub reports: data migrated (default) or reset. */
  reprovisionPolicy?: 'migrate' | 'reset';
  /**
   * The final answer carries `"operationId":""`; a `disabled` one also carries only `registrationId` and `status`
   * in `registrationState` (the short form Azure DPS sends, as in Azure SDK for Embedded C's parser test).
   * With `pollsBeforeAssigned: 0` the register request itself gets that answer.
   */
  emptyOperationId?: boolean;
}

export type IndividualAttestation =
  | { type: 'symmetricKey'; primaryKey: string; secondaryKey: string }
  /** Thumbprints are SHA-1 (40) or SHA-256 (64) hex; a PEM certificate stands for its SHA-256 thumbprint. */
  | { type: 'x509'; primaryThumbprint?: string; secondaryThumbprint?: string; primaryCertPem?: string; secondaryCertPem?: string };

export type GroupAttestation =
  | { type: 'symmetricKey'; primaryKey: string; secondaryKey: string }
  /** Devices present a certificate that chains (possibly through intermediates they send) to this CA. */
  | { type: 'x509-ca'; caCertPem: string };

export interface IndividualEnrollmentInput extends EnrollmentBehaviour {
  registrationId: string;
  attestation: IndividualAttestation;
}

export interface GroupEnrollmentInput extends EnrollmentBehaviour {
  enrollmentGroupId: string;
  attestation: GroupAttestation;
}

/** Stored form: thumbprints normalised to upper-case hex, certificates replaced by their thumbprints. */
export type StoredIndividualAttestation =
  | { type: 'symmetricKey'; primaryKey: string; secondaryKey: string }
  | { type: 'x509'; primaryThumbprint: string; secondaryThumbprint?: string };

export interface IndividualEnrollment extends EnrollmentBehaviour {
  kind: 'individual';
  registrationId: string;
  attestation: StoredIndividualAttestation;
  createdDateTimeUtc: string;
}

export interface GroupEnrollment extends EnrollmentBehaviour {
  kind: 'group';
  enrollmentGroupId: string;
  attestation: GroupAttestation;
  createdDateTimeUtc: string;
}

export type Enrollment = IndividualEnrollment | GroupEnrollment;

export type EnrollmentKind = Enrollment['kind'];

export class EnrollmentError extends Error {
  constructor(
    readonly code: 'invalid' | 'duplicate' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'EnrollmentError';
  }
}
