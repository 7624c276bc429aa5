// Typed failures of the MQTT session API. Every rejected promise carries one of these (or the codec's
// MqttProtocolError when the caller's own packet cannot be encoded), so callers branch on `code`, not on text.

import type { SessionCloseReason } from './session-types';

export type MqttSessionErrorCode =
  | 'invalid-state' // the call does not fit the current state (connect() while connected, say)
  | 'invalid-argument' // a bad option or argument
  | 'not-connected' // publish/subscribe/unsubscribe while not connected
  | 'qos2-unsupported' // QoS 2 requested: this client speaks QoS 0 and 1 only
  | 'queue-full' // the publish queue is at its bound
  | 'packet-ids-exhausted' // all 65535 packet ids in use
  | 'connection-closed' // the connection ended before the operation completed (see closeReason)
  | 'abandoned' // the owner called abandonPending()
  | 'handler-failed' // the message handler threw or rejected (reported on the 'error' event)
  | 'listener-failed'; // an event listener threw (reported on the 'error' event)

export class MqttSessionError extends Error {
  override readonly name: string = 'MqttSessionError';
  readonly code: MqttSessionErrorCode;
  readonly closeReason?: SessionCloseReason;
  override readonly cause?: unknown;

  constructor(code: MqttSessionErrorCode, message: string, extra: { closeReason?: SessionCloseReason; cause?: unknown } = {}) {
    super(message);
    this.code = code;
    if (extra.closeReason !== undefined) this.closeReason = extra.closeReason;
    if (extra.cause !== undefined) this.cause = extra.cause;
  }
}

const CONNACK_MEANING: { readonly [code: number]: string } = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export function describeReturnCode(returnCode: number): string {
  return CONNACK_MEANING[returnCode] ?? 'unknown return code';
}

/**
 * connect() failed. `returnCode` is set when the broker refused the CONNECT (1..5, never retry 4 or 5 with the
 * same credentials); otherwise `reason` says what ended the attempt (timeout, transport error, ...).
 */
export class MqttConnectError extends Error {
  override readonly name: string = 'MqttConnectError';
  readonly reason: SessionCloseReason;
  readonly returnCode?: number;

  constructor(reason: SessionCloseReason) {
    super(reason.message);
    this.reason = reason;
    if (reason.returnCode !== undefined) this.returnCode = reason.returnCode;
  }
}
