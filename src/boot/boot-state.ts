// The boot flow's lifecycle as explicit states and the edges between them, on the one state-machine helper
// (src/state-machine.ts): any other move is a bug, refused by its one policy. Callbacks from an abandoned
// registration or hub link are stopped earlier, by the flow's epochs, so they never ask for a move.

import { edgeTable, StateMachine } from '../state-machine';

export type BootState =
  | 'idle' // start() not called yet
  | 'loading' // reading the stored assignment
  | 'provisioning' // DPS registration under way
  | 'provision-wait' // backing off before the next DPS registration
  | 'connecting' // hub link open, not (or no longer) connected
  | 'connected' // hub link connected
  | 'reprovisioning' // closing the hub link before asking DPS again
  | 'failed' // a final error: nothing happens until start() is called again
  | 'stopped'; // stop() was called

export const BOOT_MOVES = edgeTable<BootState>({
  idle: ['loading', 'stopped'],
  loading: ['provisioning', 'connecting', 'failed', 'stopped'],
  provisioning: ['provision-wait', 'connecting', 'reprovisioning', 'failed', 'stopped'],
  'provision-wait': ['provisioning', 'reprovisioning', 'failed', 'stopped'],
  connecting: ['connected', 'reprovisioning', 'failed', 'stopped'],
  connected: ['connecting', 'reprovisioning', 'failed', 'stopped'],
  reprovisioning: ['provisioning', 'provision-wait', 'failed', 'stopped'],
  failed: ['loading', 'stopped'],
  stopped: ['loading'],
});

/** The flow's machine from idle; `log` reports a refused move, `strict` overrides the test/production switch. */
export function bootMachine(log: (message: string) => void, strict?: boolean): StateMachine<BootState, BootState> {
  return new StateMachine(BOOT_MOVES, 'idle', strict === undefined ? { name: 'boot', log } : { name: 'boot', log, strict });
}

/** States from which reset() re-provisions at once (otherwise it only deletes the stored assignment). */
export function isBootRunning(state: BootState): boolean {
  return state !== 'idle' && state !== 'failed' && state !== 'stopped';
}
