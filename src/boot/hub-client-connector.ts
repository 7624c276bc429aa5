// The real hub client behind the boot flow's HubConnector. The HubClient retries by itself; this adapter only
// passes its events on, each failure named by the one failure policy (src/failure/) on its `assigned-hub` path.

import { HubClient } from '../hub/hub-client';
import type { HubCredentials } from '../hub/credentials';
import { hubFailureCause } from '../hub/failure-cause';
import type { HubError } from '../hub/hub-error';
import type { HubClientConfig } from '../hub/hub-settings';
import type { HubClientPorts, HubDisconnectReason } from '../hub/hub-types';
import { assignedHubFailure, lostConnectionFailure, type HubFailure } from '../failure/assigned-hub';
import type { HubConnector, HubTarget } from './hub-connector';

/** Everything a HubClient takes except the credentials, which come from the assignment. */
export type HubLinkSettings = Omit<HubClientConfig, 'credentials'>;

/** The failure a HubClient 'error' event stands for, or undefined when it is not about connecting. */
export function hubErrorFailure(error: HubError): HubFailure | undefined {
  switch (error.code) {
    case 'auth-failed':
    case 'invalid-config':
    case 'connect-failed':
      return assignedHubFailure(hubFailureCause(error), error.message);
    default:
      // Twin, method, telemetry and clock troubles are the client's own business; the assignment is not in doubt.
      return undefined;
  }
}

function disconnectFailure(reason: HubDisconnectReason): HubFailure | undefined {
  if (reason.code !== 'connection-lost') return undefined;
  return lostConnectionFailure(reason.session, `connection lost: ${reason.message}`);
}

export function hubCredentialsFor(target: HubTarget): HubCredentials {
  return { kind: 'hub', hostName: target.hubHost, deviceId: target.deviceId, credential: target.credential };
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
        const failure = disconnectFailure(reason);
        if (failure !== undefined) events.onFailure(failure);
      });
      // The outcome of each attempt arrives through the events above.
      client.connect().catch(() => undefined);
      return { client, close: () => client.close() };
    },
  };
}
