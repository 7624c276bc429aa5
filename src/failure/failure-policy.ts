// The one failure policy of the firmware: every way a connection, a CONNACK, a DPS answer or TLS can fail is
// named as a cause, and ONE table says what each cause means on each path. The hub client, the DPS client and the
// boot flow only carry the decision out; none of them classifies a failure by itself.
//
// Two rules shape the table:
// - Nothing transient is final. What time can cure is retried; what only new credentials or a new configuration
//   can cure stops the fast loop, and is still tried again slowly (key rotations, re-enabled devices and fixed
//   enrollments clear by themselves in the field).
// - Never hammer a refusal. Retrying refused credentials quickly makes the service throttle or block the device,
//   and a certificate we do not trust (captive portal, TLS-intercepting firewall, a wrong DNS answer) does not
//   heal within seconds: those wait at least the throttling floor.

/** What to do about a failure. */
export type FailureDecision =
  /** Try again after the exponential backoff. */
  | 'retry-backoff'
  /** Try again after at least the throttling floor (10-60 s by default). */
  | 'retry-throttled'
  /** The hub refused what DPS assigned: ask DPS again (the device may have moved). */
  | 'reprovision'
  /** Stop the fast loop until new credentials or configuration arrive; a slow timer still tries again. */
  | 'stop-until-new-credentials'
  /** Nothing can be signed or checked without wall time: look at the clock again soon, send nothing. */
  | 'wait-for-clock';

/**
 * Where the failure happened: a hub from a connection string (`hub`), a hub that DPS assigned (`assigned-hub`),
 * DPS itself (`dps`), or fetching a firmware image over HTTPS (`fota`). The hub client cannot tell the two hub
 * paths apart and always decides as `hub`; the boot flow decides as `assigned-hub`.
 */
export type FailurePath = 'hub' | 'assigned-hub' | 'dps' | 'fota';

/** Causes that can happen on every path. */
export type SharedFailureCause =
  /** DNS, refused, reset, timeouts, a connection that ended, any transport failure without a better name. */
  | 'network'
  /** The server certificate is not trusted (wrong CA, expired, not yet valid). */
  | 'tls-verify'
  /** The server certificate does not name the host. */
  | 'tls-hostname'
  /** Any other TLS failure (protocol, cipher, a client certificate refused during the handshake). */
  | 'tls-handshake'
  /** The server broke MQTT (bytes or packets MQTT 3.1.1 forbids). */
  | 'protocol'
  | 'connack-1' // unacceptable protocol version
  | 'connack-2' // identifier rejected
  | 'connack-3' // server unavailable
  | 'connack-4' // bad user name or password
  | 'connack-5' // not authorized
  | 'connack-other' // a return code MQTT 3.1.1 does not define
  | 'status-401'
  | 'status-403'
  | 'status-404'
  | 'status-429'
  | 'status-5xx'
  /** Any other status >= 400 (400 bad request, 409, 412...). */
  | 'status-4xx'
  /** The wall clock is not set: nothing was signed, nothing sent. */
  | 'clock-not-set'
  /** Our own configuration, credentials or packet cannot work (found before or while sending). */
  | 'local-config';

/** Causes only DPS can give. */
export type DpsOnlyFailureCause =
  /** The registration ended with status `disabled`. */
  | 'dps-disabled'
  /** The registration ended with status `failed`. */
  | 'dps-failed'
  /** DPS answered with a body this client cannot read. */
  | 'dps-unreadable'
  /** DPS refused the subscription to its response topic. */
  | 'dps-subscribe-refused';

/** Causes only an image download can give (src/http/https-client.ts). */
export type FotaFailureCause =
  /** The connection ended inside a response body. */
  | 'http-short-read'
  /** The file on the server is shorter than the range asked for. */
  | 'http-short-file'
  /** A 3xx: no redirect is followed. */
  | 'http-redirect'
  /** A response head that breaks HTTP or does not match the range asked for. */
  | 'http-bad-response';

export type FailureCause = SharedFailureCause | DpsOnlyFailureCause | FotaFailureCause;

interface SharedRow {
  readonly hub: FailureDecision;
  readonly assignedHub: FailureDecision;
  readonly dps: FailureDecision;
  readonly fota: FailureDecision;
}

interface DpsOnlyRow {
  readonly dps: FailureDecision;
}

interface FotaOnlyRow {
  readonly fota: FailureDecision;
}

const BACKOFF: FailureDecision = 'retry-backoff';
const THROTTLED: FailureDecision = 'retry-throttled';
const REPROVISION: FailureDecision = 'reprovision';
const STOP: FailureDecision = 'stop-until-new-credentials';
const CLOCK: FailureDecision = 'wait-for-clock';

function same(decision: FailureDecision): SharedRow {
  return { hub: decision, assignedHub: decision, dps: decision, fota: decision };
}

/**
 * Refused identity or credentials: DPS may know better for an assigned hub; elsewhere only new credentials help.
 * An image server that refuses (401, 403) needs a new manifest (another location): the update stops.
 */
const REFUSED: SharedRow = { hub: STOP, assignedHub: REPROVISION, dps: STOP, fota: STOP };

/**
 * THE table. tests/failure/failure-policy.test.ts pins every row; RELIABILITY.md describes it. On the `fota` path
 * "stop" ends that location (the next one in the manifest is tried, then the update fails); a retry continues
 * from the last fragment stored.
 */
export const FAILURE_POLICY: { readonly [C in SharedFailureCause]: SharedRow } & { readonly [C in DpsOnlyFailureCause]: DpsOnlyRow } & {
  readonly [C in FotaFailureCause]: FotaOnlyRow;
} = {
  network: same(BACKOFF),
  'tls-verify': same(THROTTLED),
  'tls-hostname': same(THROTTLED),
  'tls-handshake': same(BACKOFF),
  protocol: same(BACKOFF),
  'connack-1': same(STOP),
  'connack-2': REFUSED,
  'connack-3': same(BACKOFF),
  'connack-4': REFUSED,
  'connack-5': REFUSED,
  'connack-other': same(STOP),
  // Statuses on a hub are twin answers (a 4xx fails that one request); 401 and 403 mean refused credentials.
  'status-401': REFUSED,
  'status-403': REFUSED,
  'status-404': same(STOP),
  'status-429': same(THROTTLED),
  'status-5xx': same(BACKOFF),
  'status-4xx': same(STOP),
  'clock-not-set': same(CLOCK),
  'local-config': same(STOP),
  'dps-disabled': { dps: STOP },
  'dps-failed': { dps: STOP },
  'dps-unreadable': { dps: BACKOFF },
  'dps-subscribe-refused': { dps: STOP },
  'http-short-read': { fota: BACKOFF },
  'http-short-file': { fota: STOP },
  'http-redirect': { fota: STOP },
  'http-bad-response': { fota: BACKOFF },
};

export function decideFailure(path: 'dps', cause: FailureCause): FailureDecision;
export function decideFailure(path: 'fota', cause: SharedFailureCause | FotaFailureCause): FailureDecision;
export function decideFailure(path: FailurePath, cause: SharedFailureCause): FailureDecision;
export function decideFailure(path: FailurePath, cause: FailureCause): FailureDecision {
  const row: Partial<SharedRow> = FAILURE_POLICY[cause];
  const decision = path === 'dps' ? row.dps : path === 'hub' ? row.hub : path === 'fota' ? row.fota : row.assignedHub;
  // Unreachable through the types (a DPS-only cause on a hub path); stopping the fast loop is the safe reading.
  return decision ?? STOP;
}

/** Whether the decision tries again by itself soon (backoff, throttling floor, or once the clock is set). */
export function isRetry(decision: FailureDecision): boolean {
  return decision === 'retry-backoff' || decision === 'retry-throttled' || decision === 'wait-for-clock';
}

/** The cause for an HTTP-like status >= 400 (a status below that is not a failure). */
export function statusCause(status: number): SharedFailureCause {
  if (status === 401) return 'status-401';
  if (status === 403) return 'status-403';
  if (status === 404) return 'status-404';
  if (status === 429) return 'status-429';
  if (status >= 500 && status < 600) return 'status-5xx';
  return 'status-4xx';
}

/** The cause for a CONNACK return code other than 0. */
export function connackCause(returnCode: number): SharedFailureCause {
  switch (returnCode) {
    case 1:
      return 'connack-1';
    case 2:
      return 'connack-2';
    case 3:
      return 'connack-3';
    case 4:
      return 'connack-4';
    case 5:
      return 'connack-5';
    default:
      return 'connack-other';
  }
}

/** MQTT on 8883, or MQTT over WebSockets on 443 (`wss://{host}/$iothub/websocket`). */
export type TransportKind = 'mqtt' | 'mqtt-ws';

/**
 * The transport for the next attempt at one service (hub or DPS), from the configured one and how many attempts
 * in a row failed before the transport came up (refused, reset, timed out, TLS or WebSocket upgrade failed; a
 * transport that came up resets the count). Networks that let out only 443 block 8883, so after `fallbackAfter`
 * such failures the other transport gets as many attempts, and so on by turns: a network that changes back is
 * found again. `fallbackAfter` 0 keeps the configured transport.
 */
export function transportForAttempt(configured: TransportKind, failuresInARow: number, fallbackAfter: number): TransportKind {
  if (fallbackAfter <= 0 || Math.floor(failuresInARow / fallbackAfter) % 2 === 0) return configured;
  return configured === 'mqtt' ? 'mqtt-ws' : 'mqtt';
}
