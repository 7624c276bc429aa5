// The MQTT client session's lifecycle as explicit states and one pure transition function.
// The shell (session.ts) feeds it inputs from the API, the transport and timers; an input the table does not
// list for the current state is refused, so an out-of-order callback cannot move the session anywhere odd.

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

const TABLE: { readonly [S in SessionState]: { readonly [I in SessionInput]?: SessionState } } = {
  idle: { connect: 'connecting' },
  connecting: { 'transport-open': 'awaiting-connack', closed: 'closed' },
  'awaiting-connack': { 'connack-accepted': 'connected', closed: 'closed' },
  connected: { disconnect: 'disconnecting', closed: 'closed' },
  disconnecting: { closed: 'closed' },
  closed: { connect: 'connecting' },
};

/** The state after `input`, or undefined when `input` is not allowed in `state`. */
export function transition(state: SessionState, input: SessionInput): SessionState | undefined {
  return TABLE[state][input];
}

/** States in which a transport is attached to the session. */
export function hasConnection(state: SessionState): boolean {
  return state !== 'idle' && state !== 'closed';
}
