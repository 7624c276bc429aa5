// Virtual-clock soak runners: the same simulated days on Node (fast) and inside the real XS engine through
// xsnap, where the heap count after a collection is sampled every simulated hour.

import { bundleForXs } from '../scripts/bundle-xs.mjs';
import { callXsApp } from '../tests/helpers/xs-host-bridge';
import { startXsnap, type XsMeter } from '../tests/helpers/xsnap-driver';
import type { BridgeValue } from '../hosts/xsnap/bridge-protocol';
import { runVirtualSoak, type VirtualSoakOptions, type VirtualSoakStats } from './virtual/virtual-soak-world';

export { runVirtualSoak };
export type { VirtualSoakOptions, VirtualSoakStats };

export interface XsVirtualSoakResult {
  stats: VirtualSoakStats;
  /** currentHeapCount (XS slots) after a collection, at the end of each simulated hour (index 0 = after start). */
  heapCounts: number[];
  bundleBytes: number;
  elapsedMs: number;
}

export async function runVirtualSoakOnXs(options: VirtualSoakOptions): Promise<XsVirtualSoakResult> {
  const started = Date.now();
  const script = await bundleForXs('soak/virtual/xs-entry.ts');
  const xs = startXsnap({ name: 'virtual-soak' });
  const heapCounts: number[] = [];
  let last: XsMeter | undefined;
  const sink = {
    command: async (bytes: Uint8Array) => {
      const result = await xs.command(bytes);
      last = result.meter;
      return result;
    },
  };
  try {
    await xs.evaluate(script);
    await callXsApp(sink, 'virtual-soak-start', options as unknown as BridgeValue);
    heapCounts.push(last!.currentHeapCount);
    for (let h = 0; h < options.hours; h++) {
      await callXsApp(sink, 'virtual-soak-hours', 1);
      heapCounts.push(last!.currentHeapCount);
    }
    const stats = (await callXsApp(sink, 'virtual-soak-finish')) as unknown as VirtualSoakStats;
    return { stats, heapCounts, bundleBytes: script.length, elapsedMs: Date.now() - started };
  } finally {
    await xs.close();
  }
}

export function describeVirtualSoak(s: VirtualSoakStats, engine: string): string[] {
  return [
    `virtual soak (${engine}) seed ${s.seed}: ${s.simulatedHours} simulated hours, ${s.renewals} SAS renewals, ${s.drops} dropped connections, ` +
      `${s.refusedReconnects} refusal bursts, ${s.reconnects} connections, longest offline ${(s.longestOfflineMs / 1000).toFixed(1)} s`,
    `telemetry ${s.telemetrySent} sent, ${s.telemetryAcknowledged} acknowledged, ${s.telemetryMissing} missing, ${s.telemetryDuplicates} duplicates; ` +
      `desired ${s.desiredPatches} patches, last applied v${s.lastAppliedVersion} of v${s.finalDesiredVersion}, ${s.desiredOutOfOrder} out of order; ` +
      `reported ${s.reportedAcknowledged}/${s.reportedSent}; methods ${s.methodsAnswered} answered, ${s.methodsOffline} offline (404), ${s.methodsFailed} failed; ` +
      `token-expired drops ${s.hub.tokenExpiredDrops}, keep-alive drops ${s.hub.keepAliveDrops}, end ${s.finalState}`,
  ];
}
