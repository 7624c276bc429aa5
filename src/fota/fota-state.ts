// The update's lifecycle, reported as `firmware.fwUpdateStatus`. Edges only: the agent decides the next state, the
// table refuses a move it does not list (src/state-machine.ts). From idle the agent may land anywhere a stored
// record says the last boot got to (a power cut mid-update, a reboot into the new image).

import { edgeTable, StateMachine } from '../state-machine';

export type FotaStatus = 'idle' | 'downloading' | 'verifying' | 'applying' | 'rebooting' | 'current' | 'failed';

export const FOTA_MOVES = edgeTable<FotaStatus>({
  idle: ['downloading', 'verifying', 'applying', 'rebooting', 'current', 'failed'],
  // A new job while one downloads starts over.
  downloading: ['downloading', 'verifying', 'failed'],
  verifying: ['applying', 'failed'],
  applying: ['rebooting', 'failed'],
  rebooting: ['current', 'failed'],
  current: ['downloading', 'failed'],
  failed: ['downloading', 'current', 'failed'],
});

export function fotaMachine(log: (message: string) => void): StateMachine<FotaStatus, FotaStatus> {
  return new StateMachine(FOTA_MOVES, 'idle', { name: 'fota', log });
}
