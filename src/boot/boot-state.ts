// The boot flow's lifecycle as explicit states and the edges between them. The flow refuses (and logs) any other
// move, so a late callback from an abandoned registration or hub link cannot pull it somewhere odd.

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

const EDGES: { readonly [S in BootState]: readonly BootState[] } = {
  idle: ['loading', 'stopped'],
  loading: ['provisioning', 'connecting', 'failed', 'stopped'],
  provisioning: ['provision-wait', 'connecting', 'reprovisioning', 'failed', 'stopped'],
  'provision-wait': ['provisioning', 'reprovisioning', 'failed', 'stopped'],
  connecting: ['connected', 'reprovisioning', 'failed', 'stopped'],
  connected: ['connecting', 'reprovisioning', 'failed', 'stopped'],
  reprovisioning: ['provisioning', 'provision-wait', 'failed', 'stopped'],
  failed: ['loading', 'stopped'],
  stopped: ['loading'],
};

export function canMoveBoot(from: BootState, to: BootState): boolean {
  return EDGES[from].includes(to);
}

/** States from which reset() re-provisions at once (otherwise it only deletes the stored assignment). */
export function isBootRunning(state: BootState): boolean {
  return state !== 'idle' && state !== 'failed' && state !== 'stopped';
}
