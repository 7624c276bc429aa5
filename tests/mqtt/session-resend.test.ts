import { CONNACK_SESSION_PRESENT, CONNECT_DEFAULT, DEFAULT_CONNECT, ascii, connectFx, errorCode, received, settle, setup, track } from './session-fixture';
import type { Fixture } from './session-fixture';

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
/** PUBLISH "a/b" with a one-byte payload, QoS 1, packet id `id`, DUP as given. */
const pub1 = (id: number, payloadByte: string, dup = false): string => `${dup ? '3a' : '32'}080003612f62${hex4(id)}${payloadByte}`;
const puback = (id: number): string => `4002${hex4(id)}`;

async function reconnect(fx: Fixture, cleanSession = false): Promise<void> {
  const done = fx.session.connect({ ...DEFAULT_CONNECT, cleanSession });
  fx.link.open();
  fx.link.push(CONNACK_SESSION_PRESENT);
  await done;
}

describe('QoS 1 resend after reconnect (cleanSession false)', () => {
  it('resends unacked PUBLISHes with DUP, same ids, in original order, before queued and new ones', async () => {
    const fx = setup({ maxInflight: 2 });
    await connectFx(fx);
    const ps = ['1', '2', '3', '4'].map((c) => track(fx.session.publish('a/b', ascii(c), { qos: 1 })));
    expect(fx.link.takeHex()).toEqual([pub1(1, '31'), pub1(2, '32')]);
    fx.link.push(puback(2));
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(3, '33')]);
    fx.link.peerClose();
    await settle();
    expect(ps.map((p) => p.status)).toEqual(['pending', 'resolved', 'pending', 'pending']);
    expect([fx.session.inflightCount, fx.session.queuedCount]).toEqual([2, 1]);

    const off = fx.session.on('connected', () => {
      void fx.session.publish('a/b', ascii('5'), { qos: 1 });
    });
    await reconnect(fx);
    off();
    expect(fx.link.takeHex()).toEqual([CONNECT_DEFAULT, pub1(1, '31', true), pub1(3, '33', true)]);
    // The queued one and the one published from the 'connected' listener wait for the window, in order.
    fx.link.push(puback(1));
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(4, '34')]);
    fx.link.push(puback(3));
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(5, '35')]);
    fx.link.push(puback(4));
    await settle();
    expect(ps.map((p) => p.status)).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
  });

  it('keeps resending across several reconnects until acknowledged', async () => {
    const fx = setup();
    await connectFx(fx);
    const p = track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    fx.link.fail({ code: 'reset', message: 'connection reset' });
    await reconnect(fx);
    fx.link.peerClose();
    await reconnect(fx);
    expect(fx.link.takeHex()).toEqual([CONNECT_DEFAULT, pub1(1, '31', true)]);
    fx.link.push(puback(1));
    await settle();
    expect(p.status).toBe('resolved');
  });

  it('rejects queued QoS 0 publishes on close: QoS 0 never outlives its connection', async () => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx);
    void fx.session.publish('a/b', ascii('1'), { qos: 1 });
    const kept = track(fx.session.publish('a/b', ascii('2'), { qos: 1 }));
    const q0 = track(fx.session.publish('a/b', ascii('3')));
    fx.link.peerClose();
    await settle();
    expect(errorCode(q0)).toBe('connection-closed');
    expect(kept.status).toBe('pending');
    expect(fx.session.queuedCount).toBe(1);
  });
});

describe('QoS 1 with cleanSession true', () => {
  it('rejects in-flight and queued publishes on close and resends nothing', async () => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx, { cleanSession: true });
    const a = track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    const b = track(fx.session.publish('a/b', ascii('2'), { qos: 1 }));
    fx.link.peerClose();
    await settle();
    expect([errorCode(a), errorCode(b)]).toEqual(['connection-closed', 'connection-closed']);
    expect((a.error as { closeReason?: { code: string } }).closeReason?.code).toBe('peer-closed');
    expect(fx.session.inflightCount).toBe(0);
    await reconnect(fx, true);
    expect(fx.link.takeHex()).toEqual(['101000044d5154540402003c000464657631']);
  });
});

describe('abandonPending', () => {
  it('rejects kept publishes while closed so nothing is resent', async () => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx);
    const a = track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    const b = track(fx.session.publish('a/b', ascii('2'), { qos: 1 }));
    fx.link.peerClose();
    fx.session.abandonPending('giving up');
    await settle();
    expect([errorCode(a), errorCode(b)]).toEqual(['abandoned', 'abandoned']);
    expect((a.error as Error).message).toBe('giving up');
    expect(fx.session.inflightCount).toBe(0);
    await reconnect(fx);
    expect(fx.link.takeHex()).toEqual([CONNECT_DEFAULT]);
  });

  it('while connected, keeps the ids reserved so a late PUBACK is not a protocol error', async () => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx);
    const a = track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    const s = track(fx.session.subscribe([{ topic: 'x', qos: 0 }]));
    fx.session.abandonPending();
    await settle();
    expect([errorCode(a), errorCode(s)]).toEqual(['abandoned', 'abandoned']);
    const next = track(fx.session.publish('a/b', ascii('3'), { qos: 1 }));
    fx.link.takeHex();
    fx.link.push(puback(1)); // frees the window for the next one
    fx.link.push('9003000200'); // SUBACK for the abandoned SUBSCRIBE
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(3, '33')]);
    expect(fx.session.state).toBe('connected');
    fx.link.push(puback(3));
    await settle();
    expect(next.status).toBe('resolved');
  });

  it('drops abandoned in-flight entries at the next close instead of resending them', async () => {
    const fx = setup();
    await connectFx(fx);
    void fx.session.publish('a/b', ascii('1'), { qos: 1 }).catch(() => {});
    fx.session.abandonPending();
    fx.link.peerClose();
    expect(fx.session.inflightCount).toBe(0);
    await reconnect(fx);
    expect(fx.link.takeHex()).toEqual([CONNECT_DEFAULT]);
  });
});
