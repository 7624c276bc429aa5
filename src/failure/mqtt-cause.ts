// Names the failure cause (failure-policy.ts) behind what the MQTT session reports: a refused or failed
// connect(), a closed connection, a rejected call. Pure; the decision is the policy table's.

import type { TransportErrorCode } from '../ports';
import { MqttProtocolError } from '../mqtt/protocol-error';
import { MqttConnectError, MqttSessionError } from '../mqtt/session-errors';
import type { SessionCloseReason } from '../mqtt/session-types';
import { connackCause, type SharedFailureCause } from './failure-policy';

/** A transport failure's cause: the TLS classes keep their names, the rest is the network. */
export function transportCause(code: TransportErrorCode | undefined): SharedFailureCause {
  return code === 'tls-verify' || code === 'tls-hostname' || code === 'tls-handshake' ? code : 'network';
}

/** Why a connection ended or was never opened. */
export function sessionCloseCause(reason: SessionCloseReason): SharedFailureCause {
  switch (reason.code) {
    case 'connack-refused':
      return reason.returnCode === undefined ? 'connack-other' : connackCause(reason.returnCode);
    case 'transport-error':
      return transportCause(reason.transportError?.code);
    case 'protocol-error':
      return 'protocol';
    default:
      // peer-closed, timeouts, and a local disconnect (which callers do not treat as a failure anyway).
      return 'network';
  }
}

/** The cause behind an MQTT error, or undefined when the value is not one. */
export function mqttErrorCause(error: unknown): SharedFailureCause | undefined {
  if (error instanceof MqttConnectError) return sessionCloseCause(error.reason);
  if (error instanceof MqttSessionError) {
    // A bad argument or QoS 2 is our own mistake; everything else (closed, not connected, queue full) passes.
    return error.code === 'invalid-argument' || error.code === 'qos2-unsupported' ? 'local-config' : 'network';
  }
  // The codec refused to encode our own packet (a username too long, say).
  if (error instanceof MqttProtocolError) return 'local-config';
  return undefined;
}
