import { CONNACK_OK, DEFAULT_CONNECT, ascii, connectFx, received, settle, setup } from './session-fixture';

const PINGREQ = 'c000';
const PINGRESP = 'd000';

describe('keepalive PINGREQ', () => {
  it('goes out at exactly keepAlive seconds of send silence after CONNECT', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 60 });
    fx.clock.advance(59_999);
    expect(fx.link.takeHex()).toEqual([]);
    fx.clock.advance(1);
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
  });

  it('counts from the last packet sent, not from CONNECT', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 10 });
    fx.clock.advance(4_000);
    await fx.session.publish('a/b', ascii('hi'));
    fx.link.takeHex();
    fx.clock.advance(9_999);
    expect(fx.link.takeHex()).toEqual([]);
    fx.clock.advance(1);
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
    expect(fx.clock.now()).toBe(14_000);
  });

  it('is not postponed by packets received: only sending keeps the broker informed', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 10 });
    fx.clock.advance(5_000);
    fx.link.push('30050001616869'); // QoS 0 PUBLISH "a"
    await received();
    fx.clock.advance(5_000);
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
  });

  it('repeats every keepAlive while PINGRESPs come back', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 10 });
    fx.clock.advance(10_000);
    for (let i = 1; i <= 3; i++) {
      expect(fx.link.takeHex()).toEqual([PINGREQ]);
      expect(fx.clock.now()).toBe(i * 10_000);
      fx.clock.advance(200);
      fx.link.push(PINGRESP);
      await received();
      // The next one is due 10 s after this PINGREQ was sent, not after the PINGRESP.
      fx.clock.advance(9_799);
      expect(fx.link.takeHex()).toEqual([]);
      fx.clock.advance(1);
    }
    expect(fx.session.state).toBe('connected');
  });

  it('keepAlive 0 sends no PINGREQ at all', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 0 });
    fx.clock.advance(10 * 3600_000);
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.clock.pendingCount).toBe(0);
  });
});

describe('dead peer', () => {
  it('closes with ping-timeout when nothing answers the PINGREQ within pingTimeoutMs', async () => {
    const fx = setup({ pingTimeoutMs: 3_000 });
    await connectFx(fx, { keepAlive: 10 });
    fx.clock.advance(10_000);
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
    fx.clock.advance(2_999);
    expect(fx.session.state).toBe('connected');
    fx.clock.advance(1);
    expect(fx.session.state).toBe('closed');
    expect(fx.closes).toEqual([{ code: 'ping-timeout', message: 'no answer to PINGREQ within 3000 ms' }]);
    expect(fx.link.closeReason?.by).toBe('local');
    expect(fx.clock.pendingCount).toBe(0);
  });

  it('any packet, not only PINGRESP, proves the peer alive', async () => {
    const fx = setup({ pingTimeoutMs: 3_000 });
    await connectFx(fx, { keepAlive: 10 });
    fx.clock.advance(10_000);
    fx.link.takeHex();
    fx.clock.advance(1_000);
    fx.link.push('30050001616869');
    await received();
    fx.clock.advance(5_000);
    expect(fx.session.state).toBe('connected');
    fx.clock.advance(4_000); // 10 s after the PINGREQ
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
  });

  it('stops the keepalive once closed: no timers left behind', async () => {
    const fx = setup();
    await connectFx(fx, { keepAlive: 10 });
    fx.link.peerClose();
    expect(fx.clock.pendingCount).toBe(0);
    await settle();
    expect(fx.closes.map((c) => c.code)).toEqual(['peer-closed']);
  });
});

describe('keepalive and the CONNACK wait', () => {
  it('does not ping before CONNACK; the connect timeout governs that phase', async () => {
    const fx = setup();
    void fx.session.connect({ ...DEFAULT_CONNECT, keepAlive: 1, connectTimeoutMs: 5_000 }).catch(() => {});
    fx.link.open();
    fx.link.takeHex();
    fx.clock.advance(4_000);
    expect(fx.link.takeHex()).toEqual([]);
    fx.link.push(CONNACK_OK);
    await received();
    fx.clock.advance(0);
    // CONNECT went out at t=0 and keepAlive is 1 s: the ping is overdue, so it goes out at once.
    expect(fx.link.takeHex()).toEqual([PINGREQ]);
  });
});
