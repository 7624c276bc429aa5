// The failure policy's `assigned-hub` path in the three kinds the boot flow acts on. The kinds are read off the
// one table (failure-policy.ts), so the boot flow never classifies a failure itself.

import type { SessionCloseReason } from '../mqtt/session-types';
import { decideFailure, isRetry, type SharedFailureCause } from './failure-policy';
import { sessionCloseCause } from './mqtt-cause';

/**
 * - network: the hub could not be reached (DNS, refused, reset, timeouts); says nothing about the assignment.
 * - auth: the failure policy says re-provision (CONNACK 2/4/5, 401/403): the device may have moved to another hub.
 * - other: anything else (CONNACK 1/3, TLS verification, protocol trouble, configuration).
 */
export type HubFailureKind = 'network' | 'auth' | 'other';

export interface HubFailure {
  kind: HubFailureKind;
  message: string;
  /** The failure policy stops the fast retries here: the boot flow re-provisions (auth) or gives up (other). */
  final: boolean;
}

function kindOf(cause: SharedFailureCause): HubFailureKind {
  if (decideFailure('assigned-hub', cause) === 'reprovision') return 'auth';
  return cause === 'network' ? 'network' : 'other';
}

/** A failed attempt at an assigned hub, from its cause. */
export function assignedHubFailure(cause: SharedFailureCause, message: string): HubFailure {
  return { kind: kindOf(cause), message, final: !isRetry(decideFailure('assigned-hub', cause)) };
}

/** Whether a closed (or never opened) MQTT connection says anything beyond "the network is down". */
export function sessionFailureKind(reason: SessionCloseReason | undefined): HubFailureKind {
  return reason === undefined ? 'other' : kindOf(sessionCloseCause(reason));
}

/** A connection that was up and ended: never final, the client reconnects by itself. */
export function lostConnectionFailure(reason: SessionCloseReason | undefined, message: string): HubFailure {
  return { kind: sessionFailureKind(reason), message, final: false };
}
