import { MqttConnectError } from '../../src/mqtt/session-errors';
import { DEFAULT_CONNECT, ascii, connectFx, errorCode, settle, setup, track } from './session-fixture';
import type { Fixture, Tracked } from './session-fixture';

describe('orderly disconnect', () => {
  it('writes DISCONNECT, closes the transport and resolves', async () => {
    const fx = setup();
    await connectFx(fx);
    const d = track(fx.session.disconnect());
    expect(fx.link.takeHex()).toEqual(['e000']);
    expect(fx.link.closeReason?.by).toBe('local');
    await settle();
    expect(d.status).toBe('resolved');
    expect(fx.events).toEqual(['state:disconnecting', 'state:closed', 'close:local']);
    expect(fx.closes).toEqual([{ code: 'local', message: 'disconnected by the client' }]);
    expect(fx.clock.pendingCount).toBe(0);
  });

  it('waits for a blocked transport to drain before writing DISCONNECT', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    fx.link.takeHex();
    const d = track(fx.session.disconnect());
    expect(fx.session.state).toBe('disconnecting');
    expect(fx.link.takeHex()).toEqual([]);
    fx.link.drain();
    expect(fx.link.takeHex()).toEqual(['e000']);
    await settle();
    expect(d.status).toBe('resolved');
  });

  it('closes anyway when DISCONNECT cannot be written within disconnectTimeoutMs', async () => {
    const fx = setup({ disconnectTimeoutMs: 2_000 });
    await connectFx(fx);
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    const d = track(fx.session.disconnect());
    fx.clock.advance(1_999);
    await settle();
    expect(d.status).toBe('pending');
    fx.clock.advance(1);
    await settle();
    expect(d.status).toBe('resolved');
    expect(fx.link.closed).toBe(true);
    expect(fx.closes.map((c) => c.code)).toEqual(['local']);
  });

  it('sends no PINGREQ and accepts no publish while disconnecting', async () => {
    const fx = setup({ disconnectTimeoutMs: 100_000 });
    await connectFx(fx, { keepAlive: 5 });
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    fx.link.takeHex();
    void fx.session.disconnect();
    const p = track(fx.session.publish('a/b', ascii('2')));
    fx.clock.advance(60_000);
    await settle();
    expect(errorCode(p)).toBe('not-connected');
    expect(fx.link.takeHex()).toEqual([]);
  });

  it('resolves at once when idle or already closed, and every caller of a pending disconnect is resolved', async () => {
    const fx = setup();
    await expect(fx.session.disconnect()).resolves.toBeUndefined();
    await connectFx(fx);
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    const a = track(fx.session.disconnect());
    const b = track(fx.session.disconnect());
    fx.link.peerClose();
    await settle();
    expect([a.status, b.status]).toEqual(['resolved', 'resolved']);
    expect(fx.closes.map((c) => c.code)).toEqual(['peer-closed']);
    await expect(fx.session.disconnect()).resolves.toBeUndefined();
  });

  it('abandons a connect attempt that has not been accepted yet', async () => {
    const fx = setup();
    const c = track(fx.session.connect(DEFAULT_CONNECT));
    fx.link.open();
    fx.link.takeHex();
    await fx.session.disconnect();
    await settle();
    expect(c.error).toBeInstanceOf(MqttConnectError);
    expect((c.error as MqttConnectError).reason.code).toBe('local');
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.clock.pendingCount).toBe(0);
  });
});

describe('every promise settles on close', () => {
  const causes: Array<[string, (fx: Fixture) => void | Promise<void>, string]> = [
    ['peer close', (fx) => fx.link.peerClose(), 'peer-closed'],
    ['transport error', (fx) => fx.link.fail({ code: 'reset', message: 'reset by peer' }), 'transport-error'],
    ['ping timeout', (fx) => void fx.clock.advance(60_000 + 10_000), 'ping-timeout'],
    ['protocol error', (fx) => fx.link.push('c000'), 'protocol-error'],
    ['disconnect', async (fx) => void (await fx.session.disconnect()), 'local'],
  ];

  it.each(causes)('%s rejects subscribe, unsubscribe and (clean session) publishes with connection-closed', async (_name, cause, code) => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx, { cleanSession: true });
    const pending: Tracked<unknown>[] = [
      track(fx.session.subscribe([{ topic: 'x', qos: 1 }])),
      track(fx.session.unsubscribe(['y'])),
      track(fx.session.publish('a/b', ascii('1'), { qos: 1 })),
      track(fx.session.publish('a/b', ascii('2'), { qos: 1 })),
      track(fx.session.publish('a/b', ascii('3'), { qos: 0 })),
    ];
    await cause(fx);
    await settle();
    expect(pending.map((t) => [t.status, errorCode(t)])).toEqual(pending.map(() => ['rejected', 'connection-closed']));
    expect((pending[0].error as { closeReason?: { code: string } }).closeReason?.code).toBe(code);
    expect(fx.closes.map((c) => c.code)).toEqual([code]);
    expect(fx.session.state).toBe('closed');
    expect(fx.clock.pendingCount).toBe(0);
  });

  it('a transport error carries the transport error in the close reason', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.fail({ code: 'reset', message: 'reset by peer' });
    expect(fx.closes).toEqual([
      { code: 'transport-error', message: 'transport failed (reset): reset by peer', transportError: { code: 'reset', message: 'reset by peer' } },
    ]);
  });

  it('state events run through the whole life cycle in order', async () => {
    const fx = setup();
    const c = fx.session.connect(DEFAULT_CONNECT);
    fx.link.open();
    fx.link.push('20020000');
    await c;
    await fx.session.disconnect();
    expect(fx.events.filter((e) => e.startsWith('state:'))).toEqual([
      'state:connecting',
      'state:awaiting-connack',
      'state:connected',
      'state:disconnecting',
      'state:closed',
    ]);
  });
});
