import { HubError } from '../../src/hub/hub-error';
import { encodePublish } from '../../src/mqtt/session';
import { TelemetryOutbox, type OutgoingTelemetry } from '../../src/hub/telemetry-outbox';

const names = new WeakMap<OutgoingTelemetry, string>();
const nameOf = (i: OutgoingTelemetry): string | undefined => names.get(i);

/** A message on topic `name`; its encoded PUBLISH is 5 + name + payload bytes at QoS 0, 2 more at QoS 1. */
function item(name: string, log: string[], qos: 0 | 1 = 1, payloadBytes = 0): OutgoingTelemetry {
  const entry: OutgoingTelemetry = {
    packet: encodePublish(name, new Uint8Array(payloadBytes), { qos }),
    resolve: () => log.push(`${name}:ok`),
    reject: (error) => log.push(`${name}:${error.code}`),
  };
  names.set(entry, name);
  return entry;
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
    expect(box.handOut(5).map(nameOf)).toEqual(['a', 'b']);
    expect(box.handOut(6)).toEqual([]);
    box.done(items[0]!);
    expect(box.handOut(7).map(nameOf)).toEqual(['c']);
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
    expect(box.handOut(1).map(nameOf)).toEqual(['a', 'c']);
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

describe('the telemetry byte budget', () => {
  it('counts encoded bytes waiting and handed over, and refuses past it with queue-full without dropping anything', () => {
    const log: string[] = [];
    const box = new TelemetryOutbox(10, 1, 300);
    const a = item('a', log, 1, 93); // 100 bytes encoded
    expect(a.packet.bytes.length).toBe(100);
    expect(box.enqueue(a)).toBeUndefined();
    expect(box.enqueue(item('b', log, 1, 93))).toBeUndefined();
    box.handOut(0);
    expect(box.enqueue(item('c', log, 1, 93))).toBeUndefined();
    expect(box.pendingBytes).toBe(300);
    const refused = box.enqueue(item('d', log, 0, 0));
    expect([refused?.code, box.pendingCount, box.pendingBytes]).toEqual(['queue-full', 3, 300]);
    box.done(a);
    expect(box.pendingBytes).toBe(200);
    expect(box.check(100)).toBeUndefined();
    expect(box.check(101)?.code).toBe('queue-full');
    expect(log).toEqual([]);
  });

  it('a message bigger than the whole budget is too-large, whatever is pending', () => {
    const box = new TelemetryOutbox(10, 1, 300);
    expect(box.check(301)?.code).toBe('too-large');
    expect(box.enqueue(item('big', [], 1, 294))?.code).toBe('too-large');
    expect(box.pendingBytes).toBe(0);
  });

  it('rejectAll and giveBack keep the count right', () => {
    const box = new TelemetryOutbox(10, 2, 1000);
    const items = ['a', 'b'].map((n) => item(n, [], 1, 93));
    items.forEach((i) => box.enqueue(i));
    box.handOut(0);
    box.giveBack(items[1]!);
    expect(box.pendingBytes).toBe(200);
    box.rejectAll(() => new HubError('closed', 'closed'));
    expect(box.pendingBytes).toBe(0);
  });
});
