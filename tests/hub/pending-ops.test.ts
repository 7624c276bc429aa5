import { VirtualClock } from '../../hosts/virtual';
import { HubError } from '../../src/hub/hub-error';
import { PendingOps } from '../../src/hub/pending-ops';

function setup(maxPending = 3) {
  const clock = new VirtualClock();
  let ready = 0;
  const ops = new PendingOps<string>(clock, { maxPending, onReady: () => ready++ });
  const outcomes: string[] = [];
  const add = (rid: string, timeoutMs: number | undefined, replay = true): HubError | undefined =>
    ops.add(
      {
        rid,
        topic: `t/${rid}`,
        payload: new Uint8Array(0),
        replay,
        resolve: (value) => outcomes.push(`${rid}:ok:${value}`),
        reject: (error) => outcomes.push(`${rid}:${error.code}`),
      },
      timeoutMs,
    );
  return { clock, ops, outcomes, add, ready: () => ready };
}

describe('twin request table by $rid', () => {
  it('queues, marks sent, and settles by rid', () => {
    const t = setup();
    t.add('1', 1000);
    t.add('2', 1000);
    expect(t.ops.queued().map((o) => o.rid)).toEqual(['1', '2']);
    t.ops.markSent('1');
    expect(t.ops.queued().map((o) => o.rid)).toEqual(['2']);
    expect(t.ops.sentCount).toBe(1);
    t.ops.settle('1')?.resolve('answer');
    expect(t.outcomes).toEqual(['1:ok:answer']);
    expect(t.ops.settle('1')).toBeUndefined();
    expect(t.clock.pendingCount).toBe(1); // only 2's deadline is left
  });

  it('rejects with a typed timeout at the deadline and clears the entry', () => {
    const t = setup();
    t.add('1', 500);
    t.clock.advance(499);
    expect(t.outcomes).toEqual([]);
    t.clock.advance(1);
    expect(t.outcomes).toEqual(['1:timeout']);
    expect(t.ops.size).toBe(0);
  });

  it('refuses over the bound with queue-full, not counting the client’s own requests', () => {
    const t = setup(2);
    expect(t.add('a', 1000)).toBeUndefined();
    expect(t.add('sync', 1000, false)).toBeUndefined();
    expect(t.add('b', 1000)).toBeUndefined();
    const refused = t.add('c', 1000);
    expect(refused?.code).toBe('queue-full');
    expect(t.ops.size).toBe(3);
  });
});

describe('requests across a disconnect', () => {
  it('turns sent requests back into queued ones and drops the non-replayed', () => {
    const t = setup();
    t.add('1', 1000);
    t.add('sync', 1000, false);
    t.ops.markSent('1');
    t.ops.markSent('sync');
    const dropped = t.ops.onDisconnected();
    expect(dropped.map((o) => o.rid)).toEqual(['sync']);
    expect(t.ops.queued().map((o) => o.rid)).toEqual(['1']);
    expect(t.clock.pendingCount).toBe(1);
  });

  it('waits, then becomes queued again after retryLater', () => {
    const t = setup();
    t.add('1', 10_000);
    t.ops.markSent('1');
    t.ops.retryLater('1', 300);
    expect(t.ops.get('1')?.state).toBe('waiting');
    expect(t.ops.get('1')?.retries).toBe(1);
    t.clock.advance(300);
    expect(t.ops.get('1')?.state).toBe('queued');
    expect(t.ready()).toBe(1);
  });
});

describe('giving up', () => {
  it('rejects everything and leaves no timers', () => {
    const t = setup();
    t.add('1', 1000);
    t.add('2', undefined);
    t.ops.retryLater('1', 100);
    t.ops.rejectAll(() => new HubError('closed', 'closed'));
    expect(t.outcomes).toEqual(['1:closed', '2:closed']);
    expect(t.clock.pendingCount).toBe(0);
  });
});
