// The virtual-clock soak inside the real XS engine (xsnap): the Node side starts it, runs it an hour at a time
// and reads the engine's heap count (after a collection) between hours, so growth over simulated days shows.

import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import { installXsnapHost } from '../../hosts/xsnap/xsnap-host';
import { VirtualSoak, type VirtualSoakOptions } from './virtual-soak-world';

const host = installXsnapHost();
let soak: VirtualSoak | undefined;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}

host.onApp('virtual-soak-start', async (data) => {
  soak = new VirtualSoak(data as unknown as VirtualSoakOptions);
  await soak.start();
  collect();
});

host.onApp('virtual-soak-hours', async (data) => {
  if (soak === undefined) throw new Error('virtual-soak-start first');
  await soak.runHours(data as number);
  collect();
  return soak.stats.simulatedHours;
});

host.onApp('virtual-soak-finish', async () => {
  if (soak === undefined) throw new Error('virtual-soak-start first');
  const stats = await soak.finish();
  return JSON.parse(JSON.stringify(stats)) as BridgeValue;
});
