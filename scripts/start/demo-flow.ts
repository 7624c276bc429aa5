// The service side of the `npm start` demo: once the device's telemetry arrives, change its desired
// telemetryInterval, call getStatus, send a C2D message, and wait each time for the device's reaction as the
// emulator sees it (the acknowledgement in the reported twin, the method answer, the completed C2D message).
import type { Emulator } from '../../emulator/src/emulator';

export interface DemoStep {
  name: 'telemetry' | 'twin-ack' | 'method' | 'c2d';
  detail: string;
}

export interface DemoFlowOptions {
  emulator: Emulator;
  deviceId: string;
  /** `[emulator] ...` lines. */
  say(line: string): void;
  /** How long to wait for each reaction. */
  stepTimeoutMs?: number;
  /** Ends the flow early (Ctrl-C); pending waits are abandoned. */
  signal?: { aborted: boolean };
}

function reportedAck(patch: Record<string, unknown>): { ac?: unknown; av?: unknown; value?: unknown } | undefined {
  const entry = patch['telemetryInterval'];
  return typeof entry === 'object' && entry !== null ? (entry as { ac?: unknown; av?: unknown; value?: unknown }) : undefined;
}

/** Runs the scripted steps in order; resolves with what was observed, rejects naming the step that did not happen. */
export async function runDemoFlow(options: DemoFlowOptions): Promise<DemoStep[]> {
  const { emulator, deviceId, say } = options;
  const timeout = options.stepTimeoutMs ?? 20_000;
  const steps: DemoStep[] = [];
  const check = (): void => {
    if (options.signal?.aborted) throw new Error('demo stopped');
  };

  const first = await emulator.waitFor('telemetry', (m) => m.deviceId === deviceId, timeout).catch(() => {
    throw new Error(`no telemetry from ${deviceId} within ${timeout} ms`);
  });
  steps.push({ name: 'telemetry', detail: Buffer.from(first.body).toString('utf8') });
  check();

  // A value the twin does not hold yet, so the change is visible even when the state folder remembers an old run.
  const current = emulator.getTwin(deviceId).desired['telemetryInterval'];
  const interval = current === 2000 ? 3000 : 2000;
  const acked = emulator.waitFor(
    'twin',
    (e) => e.deviceId === deviceId && e.section === 'reported' && reportedAck(e.patch)?.value === interval,
    timeout,
  );
  const twin = emulator.patchDesired(deviceId, { telemetryInterval: interval });
  say(`twin: desired telemetryInterval set to ${interval} ms (desired version ${twin.desired.$version})`);
  const ack = reportedAck((await acked.catch(() => {
    throw new Error(`the device did not acknowledge telemetryInterval within ${timeout} ms`);
  })).patch);
  say(`twin: the device acknowledged telemetryInterval = ${String(ack?.value)} (ac ${String(ack?.ac)}, av ${String(ack?.av)})`);
  steps.push({ name: 'twin-ack', detail: JSON.stringify(ack) });
  check();

  say('method: invoking getStatus');
  const status = await emulator.invokeMethod(deviceId, 'getStatus', null, { timeoutMs: timeout });
  say(`method: getStatus answered ${status.status} ${JSON.stringify(status.payload)}`);
  if (status.status !== 200) throw new Error(`getStatus answered ${status.status}`);
  steps.push({ name: 'method', detail: JSON.stringify(status.payload) });
  check();

  const completed = emulator.waitFor('c2d', (e) => e.deviceId === deviceId, timeout);
  const messageId = emulator.sendC2D(deviceId, 'hello from the cloud', { kind: 'demo' });
  say(`c2d: sent message ${messageId} "hello from the cloud"`);
  const outcome = await completed.catch(() => {
    throw new Error(`the C2D message was not completed within ${timeout} ms`);
  });
  say(`c2d: message ${outcome.messageId} ${outcome.outcome} by the device`);
  if (outcome.outcome !== 'completed') throw new Error(`the C2D message ended as ${outcome.outcome}`);
  steps.push({ name: 'c2d', detail: outcome.messageId });
  return steps;
}
