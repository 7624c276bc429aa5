// The one error type the hub client hands its users: rejected promises and 'error' events both carry it, so
// callers branch on `code` instead of parsing text. Messages name what went wrong but never quote keys, tokens
// or connection strings.

export type HubErrorCode =
  | 'invalid-config' // the client's configuration or credentials are unusable (named by `field`)
  | 'invalid-argument' // a call's argument breaks a rule checked before sending (property name, twin key...)
  | 'too-large' // a message or patch is over the hub's size limit
  | 'clock-not-set' // a SAS token needs real time and the wall clock has not been set (no SNTP yet)
  | 'auth-failed' // the hub refused the credentials; tried again slowly (stoppedRetryMs) or on updateCredentials()
  | 'connect-failed' // a connection attempt failed in a way worth retrying (reported, then retried)
  | 'queue-full' // too many calls already waiting; nothing was queued
  | 'timeout' // no answer within the operation's time limit
  | 'status' // the hub answered a twin request with an error status (see `status`, `retryable`)
  | 'invalid-response' // the hub's answer could not be understood
  | 'subscribe-refused' // the hub refused one of the subscriptions (SUBACK 0x80)
  | 'handler-failed' // a user handler (C2D, desired, method) threw or rejected
  | 'closed'; // close() was called before the operation completed

export interface HubErrorDetails {
  field?: string;
  /** HTTP-like status of a twin or method answer. */
  status?: number;
  /** CONNACK return code of a refused connection. */
  returnCode?: number;
  /** True when the same call may succeed later (429, 5xx, transport failures). */
  retryable?: boolean;
  cause?: unknown;
}

export class HubError extends Error {
  override readonly name: string = 'HubError';
  readonly code: HubErrorCode;
  readonly field?: string;
  readonly status?: number;
  readonly returnCode?: number;
  readonly retryable: boolean;
  override readonly cause?: unknown;

  constructor(code: HubErrorCode, message: string, details: HubErrorDetails = {}) {
    super(message);
    this.code = code;
    this.retryable = details.retryable === true;
    if (details.field !== undefined) this.field = details.field;
    if (details.status !== undefined) this.status = details.status;
    if (details.returnCode !== undefined) this.returnCode = details.returnCode;
    if (details.cause !== undefined) this.cause = details.cause;
  }
}

/** The one wording for a call refused or abandoned by close(); `detail` says what was cut short. */
export function closedError(detail?: string): HubError {
  return new HubError('closed', detail === undefined ? 'the client was closed' : `the client was closed ${detail}`);
}
