// SAS renewal against the emulator: a 3 s token forces a planned reconnect every ~2.4 s while telemetry and
// reported-property patches keep flowing; nothing may fail or go missing because of it.
import type { Emulator } from '../../emulator/src/emulator';
import { clientFor, delay, startHubEmulator, text, until } from './emulator-fixture';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startHubEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

describe('telemetry across forced renewals', () => {
  it('acknowledges all 200 messages and every twin patch across at least 3 renewals', async () => {
    emulator.addDevice('renew-dev');
    // The emulator cuts a connection whose token expired, as the hub does: the drain must end before the token's
    // life does (renewal at 80 % of 3 s, at most 0.5 s of drain), even on a loaded machine.
    const device = clientFor(emulator, 'renew-dev', { sasTtlSeconds: 3, renewalDrainTimeoutMs: 500 });
    try {
      await device.client.connect();
      const sends: Promise<void>[] = [];
      const patches: Promise<number | undefined>[] = [];
      for (let i = 0; i < 200; i++) {
        sends.push(device.client.sendTelemetry(`{"n":${i}}`, { systemProperties: { messageId: `msg-${i}` } }));
        if (i % 20 === 0) patches.push(device.client.patchReported({ counter: i }));
        await delay(25);
      }
      const outcomes = await Promise.allSettled([...sends, ...patches]);
      const failed = outcomes.filter((o) => o.status === 'rejected');
      expect(failed).toEqual([]);
      await until(() => device.events.filter((e) => e === 'disconnected:renewal').length >= 3, 5000, '3 renewals');

      const bodies = new Set(emulator.telemetry('renew-dev').map((m) => text(m.body)));
      for (let i = 0; i < 200; i++) expect(bodies.has(`{"n":${i}}`)).toBe(true);
      expect(emulator.getTwin('renew-dev').reported['counter']).toBe(180);
      // Renewals only: no connection was lost, no error reported.
      expect(device.events.filter((e) => e.startsWith('disconnected') && e !== 'disconnected:renewal')).toEqual([]);
      expect(device.errors).toEqual([]);
      const renewals = device.events.filter((e) => e === 'disconnected:renewal').length;
      expect(device.opened).toBe(renewals + 1);
    } finally {
      await device.client.close();
    }
  }, 60_000);
});
