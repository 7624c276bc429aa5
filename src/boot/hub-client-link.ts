// The real hub client behind the boot flow's HubConnector. The HubClient retries by itself; this adapter only
// translates its events into the three failure kinds the boot flow decides on (network, auth, other).

import { HubClient } from '../hub/hub-client';
import type { HubCredentials } from '../hub/credentials';
import type { HubError } from '../hub/hub-error';
import type { HubClientConfig } from '../hub/hub-settings';
import type { HubClientPorts, HubDisconnectReason } from '../hub/hub-types';
import { MqttConnectError } from '../mqtt/session-errors';
import type { SessionCloseReason } from '../mqtt/session-types';
import type { HubConnector, HubFailure, HubFailureKind, HubTarget } from './hub-link';

/** Everything a HubClient takes except the credentials, which come from the assignment. */
export type HubLinkSettings = Omit<HubClientConfig, 'credentials'>;

const NETWORK_CODES: readonly string[] = ['dns', 'refused', 'timeout', 'reset'];

/** Whether a closed (or never opened) MQTT connection says anything beyond "the network is down". */
export function sessionFailureKind(reason: SessionCloseReason | undefined): HubFailureKind {
  if (reason === undefined) return 'other';
  switch (reason.code) {
    case 'connect-timeout':
    case 'connack-timeout':
    case 'ping-timeout':
    case 'peer-closed':
      return 'network';
    case 'transport-error':
      return reason.transportError !== undefined && NETWORK_CODES.includes(reason.transportError.code) ? 'network' : 'other';
    case 'connack-refused':
      return reason.returnCode === 4 || reason.returnCode === 5 ? 'auth' : 'other';
    default:
      return 'other';
  }
}

/** The failure a HubClient 'error' event stands for, or undefined when it is not about connecting. */
export function hubErrorFailure(error: HubError): HubFailure | undefined {
  switch (error.code) {
    case 'auth-failed':
      return { kind: 'auth', message: error.message, final: true };
    case 'invalid-config':
      return { kind: 'other', message: error.message, final: true };
    case 'connect-failed': {
      const cause = error.cause;
      const kind = cause instanceof MqttConnectError ? sessionFailureKind(cause.reason) : 'other';
      return { kind, message: error.message, final: false };
    }
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
