// The DPS client's lifecycle as explicit states. The client moves only along the edges listed here, so a late
// callback (an answer after a timeout, a close during closing) cannot drag it back into an earlier step.

export type DpsState =
  | 'idle' // no registration yet
  | 'connecting' // TLS + CONNECT under way
  | 'subscribing' // SUBSCRIBE $dps/registrations/res/# sent
  | 'registering' // register request sent, waiting for its answer
  | 'waiting' // retry-after (or fallback) running before the next request
  | 'polling' // operation status request sent, waiting for its answer
  | 'closing' // outcome known; DISCONNECT and transport close under way
  | 'done'; // connection gone, promise settled; register() may be called again

const EDGES: { readonly [S in DpsState]: readonly DpsState[] } = {
  idle: ['connecting'],
  connecting: ['subscribing', 'closing'],
  subscribing: ['registering', 'closing'],
  registering: ['waiting', 'closing'],
  waiting: ['registering', 'polling', 'closing'],
  polling: ['waiting', 'closing'],
  closing: ['done'],
  done: ['connecting'],
};

export function canMove(from: DpsState, to: DpsState): boolean {
  return EDGES[from].includes(to);
}

/** States in which a registration is running (register() would be refused as busy). */
export function isRunning(state: DpsState): boolean {
  return state !== 'idle' && state !== 'done';
}
