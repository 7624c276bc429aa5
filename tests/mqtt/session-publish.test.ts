import { MqttProtocolError } from '../../src/mqtt/protocol-error';
import { MqttSessionError } from '../../src/mqtt/session-errors';
import { ascii, connectFx, errorCode, received, settle, setup, track } from './session-fixture';

// PUBLISH "a/b" payload "hi": QoS 0, and QoS 1 with packet id n.
const PUB0 = '30070003612f626869';
const pub1 = (id: number, payload = '6869'): string =>
  `32${(2 + 3 + 2 + payload.length / 2).toString(16).padStart(2, '0')}0003612f62${id.toString(16).padStart(4, '0')}${payload}`;
const puback = (id: number): string => `4002${id.toString(16).padStart(4, '0')}`;

describe('QoS 0 publish', () => {
  it('writes the PUBLISH and resolves once written', async () => {
    const fx = setup();
    await connectFx(fx);
    const p = track(fx.session.publish('a/b', ascii('hi')));
    expect(fx.link.takeHex()).toEqual([PUB0]);
    await settle();
    expect(p.status).toBe('resolved');
  });

  it('sets the RETAIN bit when asked', async () => {
    const fx = setup();
    await connectFx(fx);
    await fx.session.publish('a/b', ascii('hi'), { qos: 0, retain: true });
    expect(fx.link.takeHex()).toEqual(['31070003612f626869']);
  });
});

describe('QoS 1 publish', () => {
  it('resolves on PUBACK, not on write', async () => {
    const fx = setup();
    await connectFx(fx);
    const p = track(fx.session.publish('a/b', ascii('hi'), { qos: 1 }));
    expect(fx.link.takeHex()).toEqual([pub1(1)]);
    await settle();
    expect(p.status).toBe('pending');
    expect(fx.session.inflightCount).toBe(1);
    fx.link.push(puback(1));
    await settle();
    expect(p.status).toBe('resolved');
    expect(fx.session.inflightCount).toBe(0);
  });

  it('accepts PUBACKs out of order', async () => {
    const fx = setup();
    await connectFx(fx);
    const a = track(fx.session.publish('a/b', ascii('hi'), { qos: 1 }));
    const b = track(fx.session.publish('a/b', ascii('hi'), { qos: 1 }));
    fx.link.push(puback(2));
    await settle();
    expect([a.status, b.status]).toEqual(['pending', 'resolved']);
    fx.link.push(puback(1));
    await settle();
    expect(a.status).toBe('resolved');
  });

  it('closes with a protocol error on a PUBACK for an id not in flight', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push(puback(7));
    await received();
    expect(fx.closes).toEqual([{ code: 'protocol-error', message: 'PUBACK for packet id 7, which is not in flight' }]);
  });
});

describe('refused publishes send nothing', () => {
  it('QoS 2 is refused with a typed error', async () => {
    const fx = setup();
    await connectFx(fx);
    const p = track(fx.session.publish('a/b', ascii('hi'), { qos: 2 }));
    await settle();
    expect(p.error).toBeInstanceOf(MqttSessionError);
    expect(errorCode(p)).toBe('qos2-unsupported');
    expect(fx.link.takeHex()).toEqual([]);
  });

  it('a topic with a wildcard is refused by the codec', async () => {
    const fx = setup();
    await connectFx(fx);
    const p = track(fx.session.publish('a/#', ascii('hi'), { qos: 1 }));
    await settle();
    expect(p.error).toBeInstanceOf(MqttProtocolError);
    expect(errorCode(p)).toBe('invalid-topic');
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.session.inflightCount).toBe(0);
  });

  it.each(['idle', 'closed'])('publish while %s is refused with not-connected', async (state) => {
    const fx = setup();
    if (state === 'closed') {
      await connectFx(fx);
      fx.link.peerClose();
    }
    const p = track(fx.session.publish('a/b', ascii('hi'), { qos: 1 }));
    await settle();
    expect(errorCode(p)).toBe('not-connected');
  });
});

describe('in-flight window back-pressure', () => {
  it('holds publishes beyond maxInflight in a FIFO and sends one per PUBACK', async () => {
    const fx = setup({ maxInflight: 2, maxQueued: 2 });
    await connectFx(fx);
    const payloads = ['31', '32', '33', '34'];
    const ps = payloads.map((p) => track(fx.session.publish('a/b', ascii(String.fromCharCode(parseInt(p, 16))), { qos: 1 })));
    expect(fx.link.takeHex()).toEqual([pub1(1, '31'), pub1(2, '32')]);
    expect(fx.session.queuedCount).toBe(2);
    fx.link.push(puback(1));
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(3, '33')]);
    fx.link.push(puback(2));
    await received();
    expect(fx.link.takeHex()).toEqual([pub1(4, '34')]);
    fx.link.push(puback(3));
    await received();
    fx.link.push(puback(4));
    await settle();
    expect(ps.map((p) => p.status)).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
  });

  it('rejects with queue-full at once when the queue is at its bound, and sends nothing for it', async () => {
    const fx = setup({ maxInflight: 1, maxQueued: 1 });
    await connectFx(fx);
    track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    track(fx.session.publish('a/b', ascii('2'), { qos: 1 }));
    const third = track(fx.session.publish('a/b', ascii('3'), { qos: 0 }));
    await settle();
    expect(third.status).toBe('rejected');
    expect(errorCode(third)).toBe('queue-full');
    expect(fx.session.queuedCount).toBe(1);
    expect(fx.link.takeHex()).toEqual([pub1(1, '31')]);
  });

  it('keeps QoS 0 behind queued QoS 1 messages: publish order is wire order', async () => {
    const fx = setup({ maxInflight: 1 });
    await connectFx(fx);
    void fx.session.publish('a/b', ascii('1'), { qos: 1 });
    void fx.session.publish('a/b', ascii('2'), { qos: 1 });
    const q0 = track(fx.session.publish('a/b', ascii('3'), { qos: 0 }));
    fx.link.takeHex();
    await settle();
    expect(q0.status).toBe('pending');
    fx.link.push(puback(1));
    await settle();
    expect(fx.link.takeHex()).toEqual([pub1(2, '32'), '30060003612f6233']);
    expect(q0.status).toBe('resolved');
  });

  it('with maxQueued 0 anything that cannot go out at once is refused', async () => {
    const fx = setup({ maxInflight: 1, maxQueued: 0 });
    await connectFx(fx);
    const a = track(fx.session.publish('a/b', ascii('1'), { qos: 1 }));
    const b = track(fx.session.publish('a/b', ascii('2'), { qos: 1 }));
    await settle();
    expect([a.status, errorCode(b)]).toEqual(['pending', 'queue-full']);
  });
});

describe('transport back-pressure', () => {
  it('stops writing after write() returns false and resumes on onWritable', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.blockWrites();
    const first = track(fx.session.publish('a/b', ascii('1')));
    const second = track(fx.session.publish('a/b', ascii('2')));
    const third = track(fx.session.publish('a/b', ascii('3'), { qos: 1 }));
    // The first write is taken (and returns false); nothing more until the buffer drains.
    expect(fx.link.takeHex()).toEqual(['30060003612f6231']);
    await settle();
    expect([first.status, second.status, third.status]).toEqual(['resolved', 'pending', 'pending']);
    expect(fx.session.queuedCount).toBe(2);
    fx.link.drain();
    expect(fx.link.takeHex()).toEqual(['30060003612f6232', pub1(1, '33')]);
    await settle();
    expect(second.status).toBe('resolved');
    expect(third.status).toBe('pending');
  });

  it('control packets wait too, and go out ahead of queued publishes when the buffer drains', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    void fx.session.publish('a/b', ascii('2'));
    void fx.session.subscribe([{ topic: 'x', qos: 1 }]);
    fx.link.takeHex();
    fx.link.drain();
    expect(fx.link.takeHex()).toEqual(['8206000100017801', '30060003612f6232']);
  });

  it('a write that stays blocked does not stop the PINGREQ being queued, and the ping timeout closes', async () => {
    const fx = setup({ pingTimeoutMs: 1_000 });
    await connectFx(fx, { keepAlive: 5 });
    fx.link.blockWrites();
    void fx.session.publish('a/b', ascii('1'));
    fx.link.takeHex();
    fx.clock.advance(5_000);
    expect(fx.link.takeHex()).toEqual([]);
    fx.clock.advance(1_000);
    expect(fx.closes.map((c) => c.code)).toEqual(['ping-timeout']);
  });
});
