import { HubError } from '../../src/hub/hub-error';
import { TelemetryOutbox, type OutgoingTelemetry } from '../../src/hub/telemetry-outbox';

function item(name: string, log: string[], qos: 0 | 1 = 1): OutgoingTelemetry {
  return {
    topic: name,
    payload: new Uint8Array(0),
    qos,
    resolve: () => log.push(`${name}:ok`),
    reject: (error) => log.push(`${name}:${error.code}`),
  };
}

describe('telemetry queue bounds', () => {
  it('rejects over maxPending with queue-full, counting handed and waiting', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(3, 2);
    expect(box.enqueue(item('a', log))).toBeUndefined();
    expect(box.enqueue(item('b', log))).toBeUndefined();
    box.handOut(0);
    expect(box.enqueue(item('c', log))).toBeUndefined();
    const refused = box.enqueue(item('d', log));
    expect(refused).toBeInstanceOf(HubError);
    expect(refused?.code).toBe('queue-full');
    expect([box.pendingCount, box.handedCount]).toEqual([3, 2]);
  });

  it('hands out at most the window, oldest first', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(10, 2);
    const items = ['a', 'b', 'c'].map((n) => item(n, log));
    items.forEach((i) => box.enqueue(i));
    expect(box.handOut(5).map((i) => i.topic)).toEqual(['a', 'b']);
    expect(box.handOut(6)).toEqual([]);
    box.done(items[0]!);
    expect(box.handOut(7).map((i) => i.topic)).toEqual(['c']);
  });
});

describe('telemetry given back after a close', () => {
  it('keeps the original order whatever order they come back in', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(10, 3);
    const items = ['a', 'b', 'c', 'd'].map((n) => item(n, log));
    items.forEach((i) => box.enqueue(i));
    box.handOut(0);
    box.giveBack(items[2]!);
    box.giveBack(items[0]!);
    expect(box.handOut(1).map((i) => i.topic)).toEqual(['a', 'c']);
  });

  it('tracks the oldest unacknowledged QoS 1 message and restarts clocks on reconnect', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(10, 3);
    box.enqueue(item('q0', log, 0));
    box.enqueue(item('q1', log));
    expect(box.oldestUnacknowledged()).toBeUndefined();
    box.handOut(100);
    expect(box.oldestUnacknowledged()).toBe(100);
    box.restartClocks(900);
    expect(box.oldestUnacknowledged()).toBe(900);
  });

  it('rejectAll empties it', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(10, 1);
    box.enqueue(item('a', log));
    box.enqueue(item('b', log));
    box.handOut(0);
    box.rejectAll(() => new HubError('closed', 'closed'));
    expect(log).toEqual(['a:closed', 'b:closed']);
    expect(box.pendingCount).toBe(0);
  });
});
