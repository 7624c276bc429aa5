// The real hub client behind the boot flow's HubConnector. The HubClient retries by itself; this adapter only
// translates its events into the boot flow's three failure kinds, reading each off the one failure policy
// (src/failure/failure-policy.ts) on its `assigned-hub` path.

import { HubClient } from '../hub/hub-client';
import type { HubCredentials } from '../hub/credentials';
import { hubFailureCause } from '../hub/error-class';
import type { HubError } from '../hub/hub-error';
import type { HubClientConfig } from '../hub/hub-settings';
import type { HubClientPorts, HubDisconnectReason } from '../hub/hub-types';
import { decideFailure, isRetry, type SharedFailureCause } from '../failure/failure-policy';
import { sessionCloseCause } from '../failure/mqtt-cause';
import type { SessionCloseReason } from '../mqtt/session-types';
import type { HubConnector, HubFailure, HubFailureKind, HubTarget } from './hub-link';

/** Everything a HubClient takes except the credentials, which come from the assignment. */
export type HubLinkSettings = Omit<HubClientConfig, 'credentials'>;

function kindOf(cause: SharedFailureCause): HubFailureKind {
  if (decideFailure('assigned-hub', cause) === 'reprovision') return 'auth';
  return cause === 'network' ? 'network' : 'other';
}

function failureFor(cause: SharedFailureCause, message: string): HubFailure {
  return { kind: kindOf(cause), message, final: !isRetry(decideFailure('assigned-hub', cause)) };
}

/** Whether a closed (or never opened) MQTT connection says anything beyond "the network is down". */
export function sessionFailureKind(reason: SessionCloseReason | undefined): HubFailureKind {
  return reason === undefined ? 'other' : kindOf(sessionCloseCause(reason));
}

/** The failure a HubClient 'error' event stands for, or undefined when it is not about connecting. */
export function hubErrorFailure(error: HubError): HubFailure | undefined {
  switch (error.code) {
    case 'auth-failed':
    case 'invalid-config':
    case 'connect-failed':
      return failureFor(hubFailureCause(error), error.message);
    default:
      // Twin, method, telemetry and clock troubles are the client's own business; the assignment is not in doubt.
      return undefined;
  }
}

function lostConnectionFailure(reason: HubDisconnectReason): HubFailure | undefined {
  if (reason.code !== 'connection-lost') return undefined;
  return { kind: sessionFailureKind(reason.session), message: `connection lost: ${reason.message}`, final: false };
}

export function hubCredentialsFor(target: HubTarget): HubCredentials {
  return target.auth.kind === 'sas'
    ? { type: 'symmetric-key', hostName: target.hubHost, deviceId: target.deviceId, key: target.auth.key }
    : {
        type: 'x509',
        hostName: target.hubHost,
        deviceId: target.deviceId,
        certificate: { chain: target.auth.clientCertificates, privateKey: target.auth.clientKey },
      };
}

/** A HubConnector that opens a HubClient per assignment; `open` throws HubError 'invalid-config' for a bad target. */
export function hubClientConnector(ports: HubClientPorts, settings: HubLinkSettings): HubConnector<HubClient> {
  return {
    open(target, events) {
      const client = new HubClient(ports, { ...settings, credentials: hubCredentialsFor(target) });
      client.on('connected', () => events.onConnected());
      client.on('error', (error) => {
        const failure = hubErrorFailure(error);
        if (failure !== undefined) events.onFailure(failure);
      });
      client.on('disconnected', ({ reason }) => {
        const failure = lostConnectionFailure(reason);
        if (failure !== undefined) events.onFailure(failure);
      });
      // The outcome of each attempt arrives through the events above.
      client.connect().catch(() => undefined);
      return { client, close: () => client.close() };
    },
  };
}
