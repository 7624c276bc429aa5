import { ScriptedTransportFactory, VirtualClock, ascii, fromHex, toHex } from '../../hosts/virtual';
import type { TransportCloseReason, TransportEvents } from '../../src/ports';

describe('virtual clock', () => {
  it('fires timers at their own instant, equal deadlines in the order they were set', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    expect(clock.advance(15)).toBe(1);
    expect(clock.now()).toBe(15);
    clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
  });

  it('fires timers set by a callback when they fall inside the same advance', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it('clearTimeout cancels, and a zero or bad delay fires on the next advance', () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    const h = clock.setTimeout(() => fired.push('cancelled'), 1);
    clock.clearTimeout(h);
    clock.setTimeout(() => fired.push('zero'), Number.NaN);
    expect(clock.nextDueIn()).toBe(0);
    clock.advance(0);
    expect(fired).toEqual(['zero']);
    expect(clock.pendingCount).toBe(0);
    expect(clock.nextDueIn()).toBeUndefined();
  });

  it('keeps running after a throwing callback and rethrows it at the end', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      throw new Error('bad timer');
    }, 1);
    clock.setTimeout(() => fired.push('later'), 2);
    expect(() => clock.advance(5)).toThrow('bad timer');
    expect(fired).toEqual(['later']);
    expect(clock.now()).toBe(5);
  });

  it('advanceSettled lets promise jobs run between timers', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => order.push('job after first timer'));
    }, 1);
    clock.setTimeout(() => order.push('second timer'), 2);
    await clock.advanceSettled(2);
    expect(order).toEqual(['job after first timer', 'second timer']);
  });
});

describe('scripted transport', () => {
  function recorder(): { events: TransportEvents; log: string[] } {
    const log: string[] = [];
    return {
      log,
      events: {
        onConnect: () => log.push('connect'),
        onData: (d) => log.push(`data ${toHex(d)}`),
        onWritable: () => log.push('writable'),
        onError: (e) => log.push(`error ${e.code}`),
        onClose: (r: TransportCloseReason) => log.push(`close ${r.by}${r.code ? ` ${r.code}` : ''}`),
      },
    };
  }

  it('records the written arrays themselves (no copy: the caller never changes them) and reports the write result the test chose', () => {
    const factory = new ScriptedTransportFactory();
    const { events } = recorder();
    const t = factory.connect({ host: 'h', port: 1, trustedCAs: [] }, events);
    const bytes = fromHex('c0 00');
    expect(t.write(bytes)).toBe(true);
    expect(factory.last.written[0]).toBe(bytes);
    factory.last.blockWrites();
    expect(t.write(fromHex('e000'))).toBe(false);
    expect(factory.last.takeHex()).toEqual(['c000', 'e000']);
    expect(factory.last.takeHex()).toEqual([]);
  });

  it('delivers open, data, drain, failure and close once each', () => {
    const factory = new ScriptedTransportFactory();
    const { events, log } = recorder();
    const t = factory.connect({ host: 'h', port: 1, trustedCAs: [] }, events);
    factory.last.open();
    factory.last.push('d000');
    factory.last.drain();
    factory.last.fail({ code: 'reset', message: 'x' });
    factory.last.peerClose();
    t.close();
    factory.last.push('d000');
    expect(t.write(fromHex('c000'))).toBe(false);
    expect(factory.last.writesAfterClose).toBe(1);
    expect(log).toEqual(['connect', 'data d000', 'writable', 'error reset', 'close error reset']);
  });

  it('a client close reports by local', () => {
    const factory = new ScriptedTransportFactory();
    const { events, log } = recorder();
    factory.connect({ host: 'h', port: 1, trustedCAs: [] }, events).close();
    expect(log).toEqual(['close local']);
    expect(factory.last.closed).toBe(true);
  });

  it('last throws a clear error before any connection', () => {
    expect(() => new ScriptedTransportFactory().last).toThrow('the client has not opened a transport yet');
  });
});

describe('hex helpers', () => {
  it('round-trip and reject bad input', () => {
    expect(toHex(fromHex('00 7f FF'))).toBe('007fff');
    expect(() => fromHex('abc')).toThrow();
    expect(() => fromHex('zz')).toThrow();
    expect(toHex(ascii('hi'))).toBe('6869');
    expect(() => ascii('é')).toThrow();
  });
});
