// The hub client's lifecycle as explicit states and one transition table, run by the one state-machine helper
// (src/state-machine.ts): an input the table does not list for the current state is a bug, thrown under test and
// logged and refused on a device. Inputs that may legitimately come late (a timer of an old connection) are
// checked with can() by the client first, so they never count as illegal.

import { StateMachine, type MoveTable } from '../state-machine';

export type HubState =
  | 'idle' // created, connect() not called yet
  | 'connecting' // signing, opening TLS, waiting for CONNACK
  | 'connected' // CONNACK accepted; subscriptions and the twin GET are on their way
  | 'draining' // planned reconnect (token renewal): letting in-flight work finish, new calls wait
  | 'disconnecting' // planned DISCONNECT written, waiting for the session to close
  | 'waiting' // backing off before the next attempt
  | 'stopped' // refused credentials or a configuration error: the slow retry or updateCredentials() moves on
  | 'closed'; // close() was called; final

export type HubInput =
  | 'start' // connect() or new credentials
  | 'connack' // the session accepted the connection
  | 'retry' // an attempt or a connection failed in a way time can cure
  | 'retry-due' // the backoff delay passed
  | 'stop' // an attempt failed in a way only new credentials or configuration can cure (or time, slowly)
  | 'renew' // the token's renewal time came
  | 'drained' // in-flight work finished (or the drain time limit passed)
  | 'disconnect' // a planned disconnect without a drain (acknowledgement timeout)
  | 'reconnect' // a planned disconnect completed; connect again at once
  | 'lost' // the connection ended unexpectedly
  | 'close'; // close()

const HUB_MOVES: MoveTable<HubState, HubInput> = {
  idle: { start: 'connecting', close: 'closed' },
  connecting: { connack: 'connected', retry: 'waiting', stop: 'stopped', close: 'closed' },
  connected: { renew: 'draining', disconnect: 'disconnecting', lost: 'waiting', close: 'closed' },
  draining: { drained: 'disconnecting', lost: 'waiting', close: 'closed' },
  disconnecting: { reconnect: 'connecting', lost: 'waiting', close: 'closed' },
  waiting: { 'retry-due': 'connecting', start: 'connecting', close: 'closed' },
  stopped: { start: 'connecting', close: 'closed' },
  closed: {},
};

/** `strict` overrides the module switch (tests of the production policy pass false). */
export function hubStateMachine(log: (message: string) => void, strict?: boolean): StateMachine<HubState, HubInput> {
  return new StateMachine(HUB_MOVES, 'idle', { name: 'hub', log, strict });
}

/** States in which the MQTT session is connected and may be written to. */
export function isOnline(state: HubState): boolean {
  return state === 'connected' || state === 'draining' || state === 'disconnecting';
}
