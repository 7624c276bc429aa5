// Typed failures of DPS provisioning. Callers (the boot flow) branch on `code` and `retryable`: a retryable
// error may succeed later with the same inputs (throttling, outages, a clock not yet set); a final one will not
// until something changes (the enrollment, the credentials, the configuration). Messages never quote secrets.

export type DpsErrorCode =
  | 'invalid-config' // the options cannot describe a registration (bad id scope, endpoint, payload...)
  | 'credentials' // the key or certificate is missing or unusable
  | 'clock-not-set' // the wall clock has no time yet: nothing was signed and no connection attempted
  | 'connect-failed' // the transport or TLS failed, or DPS was unavailable (CONNACK 3), before registering
  | 'unauthorized' // CONNACK 2/4/5, or DPS answered 401/403: these credentials will not work
  | 'subscribe-refused' // DPS refused the response subscription
  | 'service-error' // DPS answered an error status (see `status`, `errorCode`)
  | 'assignment-failed' // the registration ended with status `failed`
  | 'enrollment-disabled' // the registration ended with status `disabled`
  | 'bad-response' // DPS sent a response this client cannot read
  | 'too-many-requests' // the request count bound was reached before a final status
  | 'timeout' // the total time bound was reached, or a request got no answer in time
  | 'connection-lost' // the connection ended in the middle of the registration
  | 'cancelled' // cancel() was called
  | 'busy'; // register() was called while a registration was running

export interface DpsErrorDetails {
  retryable: boolean;
  /** HTTP-like status from DPS (the response topic, or errorCode / 1000). */
  status?: number;
  /** DPS errorCode, e.g. 401002, or the registration state's errorCode for `assignment-failed`. */
  errorCode?: number;
  trackingId?: string;
  /** Seconds DPS asked to wait, when it said. */
  retryAfterSeconds?: number;
  /** CONNACK return code for connection refusals. */
  returnCode?: number;
  /** Transport failure class (dns, refused, tls-verify...) for `connect-failed` and `connection-lost`. */
  transportCode?: string;
}

export class DpsError extends Error {
  override readonly name: string = 'DpsError';
  readonly code: DpsErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly errorCode?: number;
  readonly trackingId?: string;
  readonly retryAfterSeconds?: number;
  readonly returnCode?: number;
  readonly transportCode?: string;

  constructor(code: DpsErrorCode, message: string, details: DpsErrorDetails) {
    super(message);
    this.code = code;
    this.retryable = details.retryable;
    if (details.status !== undefined) this.status = details.status;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
    if (details.trackingId !== undefined) this.trackingId = details.trackingId;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
    if (details.returnCode !== undefined) this.returnCode = details.returnCode;
    if (details.transportCode !== undefined) this.transportCode = details.transportCode;
  }
}

export function isDpsError(value: unknown): value is DpsError {
  return value instanceof DpsError;
}

/** The one wording for a registration refused before it starts because nothing can be signed or date-checked yet. */
export function clockNotSetError(): DpsError {
  return new DpsError('clock-not-set', 'the wall clock is not set (no SNTP yet): cannot sign or check certificates', { retryable: true });
}
