// The firmware's lifecycle (src/main.ts) as explicit states and the edges between them, on the one state-machine
// helper (src/state-machine.ts): any other move is a bug, refused by its one policy.

import { edgeTable, StateMachine } from '../state-machine';

export type FirmwareState =
  | 'idle' // created, start() not called
  | 'waiting-for-clock' // no wall time yet: nothing can be signed
  | 'provisioning' // asking DPS where this device belongs (again, when the hub refused the assignment)
  | 'connecting' // first connection to the hub (of this assignment)
  | 'running' // connected; telemetry, twin, methods and C2D are live (the client reconnects by itself)
  | 'failed' // a problem only a new configuration or enrollment can fix; see `failure`. Left by the slow retry.
  | 'stopping'
  | 'stopped';

export const FIRMWARE_MOVES = edgeTable<FirmwareState>({
  idle: ['waiting-for-clock', 'failed', 'stopping'],
  'waiting-for-clock': ['provisioning', 'connecting', 'failed', 'stopping'],
  provisioning: ['connecting', 'failed', 'stopping'],
  connecting: ['running', 'provisioning', 'failed', 'stopping'],
  running: ['provisioning', 'failed', 'stopping'],
  failed: ['stopping'],
  stopping: ['stopped'],
  stopped: ['waiting-for-clock', 'failed', 'stopping'],
});

/** The firmware's machine from idle; `log` reports a refused move, `strict` overrides the test/production switch. */
export function firmwareMachine(log: (message: string) => void, strict?: boolean): StateMachine<FirmwareState, FirmwareState> {
  return new StateMachine(FIRMWARE_MOVES, 'idle', strict === undefined ? { name: 'firmware', log } : { name: 'firmware', log, strict });
}
