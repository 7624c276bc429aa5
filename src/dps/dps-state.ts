// The DPS client's lifecycle as explicit states. The client moves only along the edges listed here (through the
// one state-machine helper, src/state-machine.ts), so a late callback (an answer after a timeout, a close during
// closing) cannot drag it back into an earlier step.

import { edgeTable, StateMachine } from '../state-machine';

export type DpsState =
  | 'idle' // no registration yet
  | 'connecting' // TLS + CONNECT under way
  | 'subscribing' // SUBSCRIBE $dps/registrations/res/# sent
  | 'registering' // register request sent, waiting for its answer
  | 'waiting' // retry-after (or fallback) running before the next request
  | 'polling' // operation status request sent, waiting for its answer
  | 'closing' // outcome known; DISCONNECT and transport close under way
  | 'done'; // connection gone, promise settled; register() may be called again

export const DPS_MOVES = edgeTable<DpsState>({
  idle: ['connecting'],
  connecting: ['subscribing', 'closing'],
  subscribing: ['registering', 'closing'],
  registering: ['waiting', 'closing'],
  waiting: ['registering', 'polling', 'closing'],
  polling: ['waiting', 'closing'],
  closing: ['done'],
  done: ['connecting'],
});

/** The client's machine from idle; `log` reports a refused move, `strict` overrides the test/production switch. */
export function dpsMachine(log: (message: string) => void, strict?: boolean): StateMachine<DpsState, DpsState> {
  return new StateMachine(DPS_MOVES, 'idle', strict === undefined ? { name: 'dps', log } : { name: 'dps', log, strict });
}

/** States in which a registration is running (register() would be refused as busy). */
export function isRunning(state: DpsState): boolean {
  return state !== 'idle' && state !== 'done';
}
