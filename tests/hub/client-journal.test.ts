// Telemetry through the flash journal (HubClientConfig.journal): in journal order, inside the in-flight window,
// a `$.mid` that stays the same on every resend, removed from flash only on its PUBACK, and sent again by the
// next client (a reboot) when it was not acknowledged. The hub is played byte for byte (hub-fixture.ts).

import { DEVICE, acceptConnection, connectFully, subackHex, twinDoc, publishHex, pubackHex, settle, setupHub, track } from './hub-fixture';
import { TelemetryJournal } from '../../src/storage/telemetry-journal';
import { journaling } from '../../src/hub/journal-sender';
import type { JournalStatus } from '../../src/hub/hub-types';
import { CutStore } from '../storage/journal-battery';

const TELEMETRY = `devices/${DEVICE}/messages/events/`;
const mid = (seq: number): string => `%24.mid=0000002a-${seq}`;

function journalOn(store: CutStore, policy: 'drop-oldest' | 'refuse-newest' = 'drop-oldest'): TelemetryJournal {
  return new TelemetryJournal({ store, budgetBytes: 4096, segmentBytes: 1024, policy, newId: () => 42 });
}

describe('journaled telemetry goes out in order with a stable $.mid and leaves flash only on its PUBACK', () => {
  it('sends live messages through the journal, resolves once written, removes each on its PUBACK', async () => {
    const store = new CutStore();
    const journal = journalOn(store);
    const fx = setupHub({ journal: journaling(journal), journalFlushMs: 500, maxInflightTelemetry: 2 });
    const statuses: JournalStatus[] = [];
    fx.client.on('journal', (status) => statuses.push(status));
    await connectFully(fx);
    const sends = ['a', 'b', 'c'].map((body) => track(fx.client.sendTelemetry(body)));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY + mid(0), 'a', 1, 2), publishHex(TELEMETRY + mid(1), 'b', 1, 3)]);
    expect(sends.map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
    expect(store.writes).toBe(0);
    fx.clock.advance(500); // the flush timer: one write for all three
    await settle();
    expect(store.writes).toBe(1);
    expect(sends.map((s) => s.status)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(statuses.at(-1)).toMatchObject({ depth: 3, dropped: 0, budgetBytes: 4096 });
    expect(fx.client.pendingTelemetry).toBe(3);

    fx.link.push(pubackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY + mid(2), 'c', 1, 4)]);
    fx.link.push(pubackHex(3) + pubackHex(4));
    await settle();
    expect(fx.client.pendingTelemetry).toBe(0);
    fx.clock.advance(500);
    await settle();
    expect(store.writes).toBe(2); // the acknowledgements, in one write
    expect(journalOn(store).stats().depth).toBe(0);
    await fx.client.close();
  });

  it("resolveOn 'acknowledged' waits for the PUBACK; a given messageId is kept", async () => {
    const journal = journalOn(new CutStore());
    const fx = setupHub({ journal: journaling(journal), journalFlushMs: 10 });
    await connectFully(fx);
    const sent = track(fx.client.sendTelemetry('x', { resolveOn: 'acknowledged', systemProperties: { messageId: 'm-1' } }));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(`${TELEMETRY}%24.mid=m-1`, 'x', 1, 2)]);
    fx.clock.advance(10);
    await settle();
    expect(sent.status).toBe('pending');
    fx.link.push(pubackHex(2));
    await settle();
    expect(sent.status).toBe('resolved');
    await fx.client.close();
  });

  it('journal: false keeps a QoS 0 message in RAM only', async () => {
    const store = new CutStore();
    const fx = setupHub({ journal: journaling(journalOn(store)), journalFlushMs: 10 });
    await connectFully(fx);
    const sent = track(fx.client.sendTelemetry('q0', { qos: 0, journal: false }));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, 'q0', 0)]);
    expect(sent.status).toBe('resolved');
    fx.clock.advance(10);
    expect(store.writes).toBe(0);
    await fx.client.close();
  });
});

describe('after a reboot the next client resends what was not acknowledged, with the same $.mid', () => {
  it('offline appends survive; the acknowledged one never comes back', async () => {
    const store = new CutStore();
    const first = setupHub({ journal: journaling(journalOn(store)), journalFlushMs: 100 });
    await connectFully(first);
    track(first.client.sendTelemetry('one'));
    await settle();
    first.link.push(pubackHex(2));
    await settle();
    first.link.peerClose(); // the hub goes away; two more while offline
    await settle();
    track(first.client.sendTelemetry('two'));
    track(first.client.sendTelemetry('three'));
    first.clock.advance(100);
    await settle();
    expect(journalOn(store).read(0, 9).map((e) => e.seq)).toEqual([1, 2]);
    // The device loses power here: no close(), nothing more written. A new boot opens the journal again.
    const second = setupHub({ journal: journaling(journalOn(store)), journalFlushMs: 100 });
    expect(second.client.pendingTelemetry).toBe(2);
    const connected = second.client.connect();
    const written = await acceptConnection(second); // the backlog goes out right behind the SUBSCRIBE
    second.link.push(subackHex(1));
    await settle();
    second.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc({}, 1)));
    await connected;
    await settle();
    expect([...written, ...second.link.takeHex()].filter((hex) => hex.startsWith('32'))).toEqual([publishHex(TELEMETRY + mid(1), 'two', 1, 2), publishHex(TELEMETRY + mid(2), 'three', 1, 3)]);
    second.link.push(pubackHex(2) + pubackHex(3));
    await settle();
    expect(second.client.flushTelemetry()).toBeUndefined();
    expect(journalOn(store).stats().depth).toBe(0);
    await second.client.close();
    await first.client.close();
  });

  it('refuse-newest: a full journal refuses with queue-full; drop-oldest reports the drop in the journal event', async () => {
    const refusing = setupHub({ journal: journaling(journalOn(new CutStore(), 'refuse-newest')), journalFlushMs: 1 });
    const results = [];
    for (let n = 0; n < 40; n++) {
      results.push(track(refusing.client.sendTelemetry(new Uint8Array(200))));
      refusing.clock.advance(1);
      await settle();
    }
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.error?.code).toBe('queue-full');
    expect(refused[0]!.error?.message).toBe('journal full: 4096 bytes hold unacknowledged telemetry');
    await refusing.client.close();

    const dropping = setupHub({ journal: journaling(journalOn(new CutStore(), 'drop-oldest')), journalFlushMs: 1 });
    const drops: number[] = [];
    dropping.client.on('journal', (s) => drops.push(s.dropped));
    for (let n = 0; n < 40; n++) {
      track(dropping.client.sendTelemetry(new Uint8Array(200)));
      dropping.clock.advance(1);
      await settle();
    }
    expect(Math.max(...drops)).toBeGreaterThan(0);
    await dropping.client.close();
  });
});
