// A small fault soak in every test run: 300 QoS 1 messages through the real stack while the emulator injects 30
// faults of every kind. The long run is `npx tsx soak/index.ts --messages 10000 --faults 1000`.
import { describeFaultSoak, runFaultSoak, type FaultSoakStats } from '../../soak/fault-soak';
import { FAULT_KINDS } from '../../soak/fault/fault-plan';
import { report, seedFromEnv } from './report';

const SEED = seedFromEnv('SOAK_SEED', 4242);

describe('300 messages through 30 injected faults', () => {
  let stats: FaultSoakStats;

  beforeAll(async () => {
    stats = await runFaultSoak({ seed: SEED, messages: 300, faults: 30, deadlineMs: 60_000 });
    for (const line of describeFaultSoak(stats)) report(`${line} (replay with SOAK_SEED=${SEED})`);
  }, 90_000);

  test('the run finished and every kind of fault was injected', () => {
    expect(stats.timedOut).toBe(false);
    for (const kind of FAULT_KINDS) expect(stats.faultsByKind[kind]).toBeGreaterThan(0);
    expect(stats.dpsErrorAnswers).toBeGreaterThanOrEqual(2);
  });

  test('every message was acknowledged and arrived at least once; none was given up', () => {
    expect(stats.rejections).toEqual([]);
    expect(stats.acknowledged).toBe(300);
    expect(stats.missing).toEqual([]);
    expect(stats.receivedUnique).toBe(300);
    expect(stats.receivedTotal).toBe(300 + stats.duplicates);
  });

  test('twin patches made during 429 and 5xx answers all succeeded', () => {
    expect(stats.twinFailures).toEqual([]);
    expect(stats.twinSucceeded).toBe(stats.twinRequests);
  });

  test('the client ends connected with nothing queued, after recovering from every auth failure', () => {
    expect(stats.finalState).toBe('connected');
    expect(stats.pendingTelemetryAtEnd).toBe(0);
    expect(stats.authFailures).toBeGreaterThan(0);
    // Each refusal sends the device back to DPS (two refusals during one re-provisioning share it).
    expect(stats.provisioningRuns).toBeGreaterThanOrEqual(2);
    expect(stats.provisioningRuns).toBeLessThanOrEqual(1 + stats.authFailures);
  });
});
