// The bridge's two halves wired together inside Node (the XS-side host runs here, under the worker's rules),
// with virtual Node-side ports, so every message kind can be checked quickly and exactly.
import { ScriptedTransportFactory, VirtualClock } from '../../hosts/virtual';
import { createMemoryStore, createNodeClock, createNodeCrypto } from '../../hosts/node/index';
import type { HostPorts, TransportCloseReason, TransportError } from '../../src/ports';
import { createXsLoopback } from '../helpers/xs-loopback';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';

function setUp() {
  const clock = new VirtualClock(1000);
  const transport = new ScriptedTransportFactory();
  const logLines: string[] = [];
  const notified: [string, BridgeValue | undefined][] = [];
  const ports: HostPorts = {
    transport,
    timers: clock,
    clock: createNodeClock({ notSet: true }),
    crypto: createNodeCrypto(),
    store: createMemoryStore(),
    logger: { log: (level, message) => void logLines.push(`${level}: ${message}`) },
  };
  const { host, bridge } = createXsLoopback({
    ports,
    onApp: (name, data) => {
      notified.push([name, data]);
      return name === 'ask' ? 'answer' : undefined;
    },
  });
  return { clock, transport, logLines, notified, host, bridge };
}

describe('bridged timers', () => {
  test('XS arms timers on the Node clock; they fire in XS when Node time reaches them', async () => {
    const { clock, host, bridge } = setUp();
    const fired: string[] = [];
    expect(host.ports.timers.now()).toBe(1000);
    host.ports.timers.setTimeout(() => fired.push(`b@${host.ports.timers.now()}`), 200);
    host.ports.timers.setTimeout(() => fired.push(`a@${host.ports.timers.now()}`), 100);
    const cancelled = host.ports.timers.setTimeout(() => fired.push('never'), 150);
    host.ports.timers.clearTimeout(cancelled);
    expect(clock.pendingCount).toBe(2);
    clock.advance(100);
    await bridge.idle();
    expect(fired).toEqual(['a@1100']);
    clock.advance(100);
    await bridge.idle();
    expect(fired).toEqual(['a@1100', 'b@1200']);
    expect(bridge.armedTimers).toBe(0);
    expect(host.timers.pendingCount).toBe(0);
  });

  test('a timer cancelled after it fell due on Node but before XS heard of it does not run', async () => {
    const { clock, host, bridge } = setUp();
    let ran = false;
    const handle = host.ports.timers.setTimeout(() => (ran = true), 10);
    clock.advance(10); // the fire event is queued, not yet delivered
    host.ports.timers.clearTimeout(handle);
    await bridge.idle();
    expect(ran).toBe(false);
  });
});

describe('bridged transport', () => {
  test('connect options, connect, data, writes with back-pressure and local close cross intact and in order', async () => {
    const { transport, host, bridge } = setUp();
    const seen: string[] = [];
    const ca = new Uint8Array([0x30, 0x82, 1, 2]);
    const xsTransport = host.ports.transport.connect(
      { host: 'hub.example', port: 8883, serverName: 'hub.example', trustedCAs: [ca], connectTimeoutMs: 5000 },
      {
        onConnect: () => seen.push('connect'),
        onData: (bytes) => seen.push(`data ${Array.from(bytes).join(',')}`),
        onWritable: () => seen.push('writable'),
        onError: (error: TransportError) => seen.push(`error ${error.code}`),
        onClose: (reason: TransportCloseReason) => seen.push(`close ${reason.by}`),
      },
    );
    const connection = transport.last;
    expect(connection.options).toEqual({ host: 'hub.example', port: 8883, serverName: 'hub.example', trustedCAs: [ca], connectTimeoutMs: 5000 });
    connection.open();
    connection.push(new Uint8Array([0x20, 2, 0, 0]));
    await bridge.idle();
    expect(seen).toEqual(['connect', 'data 32,2,0,0']);
    expect(xsTransport.write(new Uint8Array([0xc0, 0]))).toBe(true);
    connection.blockWrites();
    expect(xsTransport.write(new Uint8Array([0xe0, 0]))).toBe(false);
    connection.drain();
    await bridge.idle();
    expect(connection.writtenHex()).toEqual(['c000', 'e000']);
    xsTransport.close();
    xsTransport.close();
    await bridge.idle();
    expect(seen).toEqual(['connect', 'data 32,2,0,0', 'writable', 'close local']);
    expect(xsTransport.write(new Uint8Array([1]))).toBe(false);
    expect(connection.writesAfterClose).toBe(0);
    expect(bridge.openConnections).toBe(0);
    expect(host.transport.openCount).toBe(0);
  });

  test('a failure reaches XS as onError then onClose', async () => {
    const { transport, host, bridge } = setUp();
    const seen: string[] = [];
    host.ports.transport.connect(
      { host: 'h', port: 1, trustedCAs: [] },
      {
        onConnect: () => seen.push('connect'),
        onData: () => seen.push('data'),
        onWritable: () => seen.push('writable'),
        onError: (error) => seen.push(`error ${error.code} ${error.message}`),
        onClose: (reason) => seen.push(`close ${reason.by} ${reason.code}`),
      },
    );
    transport.last.fail({ code: 'tls-verify', message: 'server certificate not trusted' });
    await bridge.idle();
    expect(seen).toEqual(['error tls-verify server certificate not trusted', 'close error tls-verify']);
  });
});

describe('bridged services', () => {
  test('HMAC, random bytes, wall clock, store and logger are answered by the Node ports', () => {
    const { host, logLines } = setUp();
    const key = new Uint8Array([1, 2, 3]);
    const data = new Uint8Array([4, 5]);
    expect(host.ports.crypto.hmacSha256(key, data)).toEqual(createNodeCrypto().hmacSha256(key, data));
    expect(host.ports.crypto.randomBytes(16)).toHaveLength(16);
    expect(host.ports.clock.unixMs()).toBeUndefined();
    host.ports.store.set('a', new Uint8Array([9]));
    expect(host.ports.store.get('a')).toEqual(new Uint8Array([9]));
    expect(host.ports.store.get('missing')).toBeUndefined();
    expect(host.ports.store.keys()).toEqual(['a']);
    host.ports.store.delete('a');
    expect(host.ports.store.keys()).toEqual([]);
    host.ports.logger.log('warn', 'low battery: 5 %');
    expect(logLines).toEqual(['warn: low battery: 5 %']);
  });

  test('a request the Node side cannot serve throws in XS with the reason, instead of hanging', () => {
    const { host } = setUp();
    expect(() => host.ports.crypto.randomBytes(-1)).toThrow(
      'host refused random-bytes: randomBytes length must be a non-negative integer, got -1',
    );
  });
});

describe('app calls both ways', () => {
  test('Node calls XS handlers, sync and async, and XS notifies Node', async () => {
    const { host, bridge, notified } = setUp();
    host.onApp('sum', (data) => (data as number[]).reduce((a, b) => a + b, 0));
    host.onApp('later', async (data) => {
      await Promise.resolve();
      return { echoed: data ?? null, answer: host.notify('ask', { q: 1 }) ?? null };
    });
    expect(await bridge.app('sum', [1, 2, 39])).toBe(42);
    expect(await bridge.app('later', 'x')).toEqual({ echoed: 'x', answer: 'answer' });
    expect(notified).toEqual([['ask', { q: 1 }]]);
  });

  test('unknown, throwing and rejecting handlers come back as errors naming the handler', async () => {
    const { host, bridge } = setUp();
    host.onApp('throws', () => {
      throw new RangeError('bad');
    });
    host.onApp('rejects', () => Promise.reject(new Error('worse')));
    await expect(bridge.app('nope')).rejects.toThrow('XS could not handle app "nope": no app handler named "nope"');
    await expect(bridge.app('throws')).rejects.toThrow('XS could not handle app "throws": RangeError: bad');
    await expect(bridge.app('rejects')).rejects.toThrow('XS could not handle app "rejects": Error: worse');
  });

  test('an XS callback that throws while handling an event surfaces from idle()', async () => {
    const { host, bridge, clock } = setUp();
    host.ports.timers.setTimeout(() => {
      throw new Error('timer callback broke');
    }, 5);
    clock.advance(5);
    await expect(bridge.idle()).rejects.toThrow('XS could not handle timer-fire: Error: timer callback broke');
  });
});
