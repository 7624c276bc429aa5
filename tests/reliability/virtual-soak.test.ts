// 48 simulated hours on a virtual clock with hourly SAS tokens, dropped connections, refused reconnects, desired
// patches and method calls: once on Node, once inside the real XS engine (xsnap), where the heap count after a
// collection is read every simulated hour. The same seed gives the same run on both engines.
import { describeVirtualSoak, runVirtualSoak, runVirtualSoakOnXs, type VirtualSoakStats, type XsVirtualSoakResult } from '../../soak/virtual-soak';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('VSOAK_SEED', 48);
const HOURS = 48;

function expectNothingLost(s: VirtualSoakStats): void {
  expect(s.simulatedHours).toBe(HOURS);
  // Telemetry: every message acknowledged and delivered.
  expect(s.telemetrySent).toBeGreaterThan(400);
  expect(s.telemetryAcknowledged).toBe(s.telemetrySent);
  expect([s.telemetryRejected, s.telemetryMissing, s.telemetryUnknown]).toEqual([0, 0, 0]);
  // Desired: the last version reached the app, in order, each acknowledged through a reported patch.
  expect(s.lastAppliedVersion).toBe(s.finalDesiredVersion);
  expect(s.desiredOutOfOrder).toBe(0);
  expect(s.reportedAcknowledged).toBe(s.reportedSent);
  expect(s.reportedFailed).toBe(0);
  // Methods: every call the hub could deliver was answered in time.
  expect(s.methodsAnswered + s.methodsOffline).toBe(s.methodCalls);
  expect(s.methodsFailed).toBe(0);
  // Tokens were renewed before they expired, keep-alive held, and no stretch offline outlasted the backoff.
  expect(s.renewals).toBeGreaterThanOrEqual(40);
  expect(s.hub.tokenExpiredDrops).toBe(0);
  expect(s.hub.keepAliveDrops).toBe(0);
  expect(s.hub.protocolErrors).toBe(0);
  expect(s.drops).toBeGreaterThan(10);
  expect(s.longestOfflineMs).toBeLessThan(120_000);
  // No stuck state: connected at the end, and after close() no timer of the client is left behind.
  expect(s.finalState).toBe('connected');
  expect(s.pendingTimers).toBe(0);
}

describe('48 simulated hours on the virtual clock', () => {
  let onNode: VirtualSoakStats;
  let onXs: XsVirtualSoakResult;

  beforeAll(async () => {
    const t0 = Date.now();
    onNode = await runVirtualSoak({ seed: SEED, hours: HOURS });
    const nodeMs = Date.now() - t0;
    onXs = await runVirtualSoakOnXs({ seed: SEED, hours: HOURS });
    for (const line of describeVirtualSoak(onNode, `Node, ${nodeMs} ms`)) report(`${line} (replay with VSOAK_SEED=${SEED})`);
    const h = onXs.heapCounts;
    report(`virtual soak (XS, ${onXs.elapsedMs} ms, bundle ${onXs.bundleBytes} bytes): heap slots after GC at hour 1 ${h[1]}, hour 6 ${h[6]}, hour 24 ${h[24]}, hour 48 ${h[48]}; min ${Math.min(...h.slice(1))}, max ${Math.max(...h.slice(1))}`);
  }, 120_000);

  test('on Node: nothing lost, nothing stuck', () => {
    expectNothingLost(onNode);
  });

  test('on XS: the same run, event for event', () => {
    expect(onXs.stats).toEqual(onNode);
  });

  test('on XS: the heap after a collection is flat from hour 6 to hour 48', () => {
    const h = onXs.heapCounts;
    expect(h).toHaveLength(HOURS + 1);
    const early = Math.max(...h.slice(1, 7));
    const late = h.slice(HOURS - 11);
    // Allowed: noise of one connection's worth of objects (timers, a parser, a twin request), not growth.
    for (const count of late) expect(count).toBeLessThanOrEqual(early + 200);
    expect(Math.max(...late)).toBeLessThanOrEqual(Math.round(early * 1.02));
  });
});

describe('the heap check can see a leak', () => {
  test('a planted leak of one small object per message shows as growth on XS', async () => {
    const leaky = await runVirtualSoakOnXs({ seed: SEED, hours: 24, plantLeak: true });
    const h = leaky.heapCounts;
    report(`virtual soak (XS) with a planted leak: heap slots at hour 6 ${h[6]}, hour 24 ${h[24]}`);
    expect(h[24]! - h[6]!).toBeGreaterThan(200);
  }, 60_000);
});
