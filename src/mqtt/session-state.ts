// The MQTT client session's lifecycle as explicit states and one transition table, run by the one helper
// (src/state-machine.ts). The shell (session.ts) feeds it inputs from the API, the transport and timers and only
// feeds inputs the table allows; any other input is a bug in the shell and is refused by the helper's policy.

import { StateMachine, type MoveTable } from '../state-machine';

export type SessionState =
  | 'idle' // never connected
  | 'connecting' // transport (TCP + TLS) opening
  | 'awaiting-connack' // CONNECT sent
  | 'connected' // CONNACK accepted
  | 'disconnecting' // DISCONNECT queued, closing once it is written
  | 'closed'; // connection over; connect() may be called again

export type SessionInput =
  | 'connect' // API: connect()
  | 'transport-open' // transport: onConnect
  | 'connack-accepted' // broker: CONNACK with return code 0
  | 'disconnect' // API: disconnect() while connected
  | 'closed'; // anything that ends the connection: failures, timeouts, refusals, local close

export const SESSION_MOVES: MoveTable<SessionState, SessionInput> = {
  idle: { connect: 'connecting' },
  connecting: { 'transport-open': 'awaiting-connack', closed: 'closed' },
  'awaiting-connack': { 'connack-accepted': 'connected', closed: 'closed' },
  connected: { disconnect: 'disconnecting', closed: 'closed' },
  disconnecting: { closed: 'closed' },
  closed: { connect: 'connecting' },
};

/** The session's machine, starting idle; a refused move is reported through `log`. `strict` overrides the policy (tests). */
export function sessionMachine(log?: (message: string) => void, strict?: boolean): StateMachine<SessionState, SessionInput> {
  return new StateMachine(SESSION_MOVES, 'idle', { name: 'mqtt', log, strict });
}

/** States in which a transport is attached to the session. */
export function hasConnection(state: SessionState): boolean {
  return state !== 'idle' && state !== 'closed';
}
