import { ascii, connectFx, errorCode, received, settle, setup, track } from './session-fixture';

describe('SUBSCRIBE and SUBACK', () => {
  it('sends SUBSCRIBE and resolves with the granted codes, 0x80 included', async () => {
    const fx = setup();
    await connectFx(fx);
    const s = track(
      fx.session.subscribe([
        { topic: 'x/#', qos: 1 },
        { topic: 'y', qos: 0 },
      ]),
    );
    expect(fx.link.takeHex()).toEqual(['820c00010003782f230100017900']);
    fx.link.push('900400010180');
    await settle();
    expect(s).toEqual({ status: 'resolved', value: [1, 0x80] });
  });

  it('reports a fully refused subscription without throwing', async () => {
    const fx = setup();
    await connectFx(fx);
    const s = track(fx.session.subscribe([{ topic: 'forbidden', qos: 1 }]));
    fx.link.push('9003000180');
    await settle();
    expect(s).toEqual({ status: 'resolved', value: [0x80] });
    expect(fx.session.state).toBe('connected');
  });

  it('closes with a protocol error when SUBACK has the wrong number of codes, rejecting the subscribe', async () => {
    const fx = setup();
    await connectFx(fx);
    const s = track(fx.session.subscribe([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 1 }]));
    fx.link.push('9003000101');
    await settle();
    expect(fx.closes.map((c) => [c.code, c.message])).toEqual([['protocol-error', 'SUBACK has 1 return codes for 2 filters']]);
    expect(errorCode(s)).toBe('connection-closed');
  });

  it('closes with a protocol error on a SUBACK nobody waits for', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push('9003000401');
    await received();
    expect(fx.closes.map((c) => c.code)).toEqual(['protocol-error']);
  });

  it.each([
    ['no filters', [], 'invalid-argument'],
    ['a QoS 2 filter', [{ topic: 'a', qos: 2 }], 'qos2-unsupported'],
  ])('refuses %s without sending anything', async (_name, filters, code) => {
    const fx = setup();
    await connectFx(fx);
    const s = track(fx.session.subscribe(filters as never));
    await settle();
    expect(errorCode(s)).toBe(code);
    expect(fx.link.takeHex()).toEqual([]);
  });

  it('refuses a bad filter with the codec error and frees the packet id', async () => {
    const fx = setup();
    await connectFx(fx);
    const s = track(fx.session.subscribe([{ topic: 'a/#/b', qos: 0 }]));
    await settle();
    expect(errorCode(s)).toBe('invalid-topic');
    void fx.session.subscribe([{ topic: 'ok', qos: 0 }]);
    // Ids walk forward: the freed id 1 is skipped over, not reused at once.
    expect(fx.link.takeHex()).toEqual(['8207000200026f6b00']);
  });

  it('refuses subscribe while not connected', async () => {
    const fx = setup();
    await expect(fx.session.subscribe([{ topic: 'a', qos: 0 }])).rejects.toMatchObject({ code: 'not-connected' });
  });
});

describe('UNSUBSCRIBE and UNSUBACK', () => {
  it('sends UNSUBSCRIBE and resolves on UNSUBACK', async () => {
    const fx = setup();
    await connectFx(fx);
    const u = track(fx.session.unsubscribe(['x/#']));
    expect(fx.link.takeHex()).toEqual(['a20700010003782f23']);
    await settle();
    expect(u.status).toBe('pending');
    fx.link.push('b0020001');
    await settle();
    expect(u.status).toBe('resolved');
  });

  it('an UNSUBACK for a SUBSCRIBE id is a protocol error', async () => {
    const fx = setup();
    await connectFx(fx);
    const s = track(fx.session.subscribe([{ topic: 'a', qos: 0 }]));
    fx.link.push('b0020001');
    await settle();
    expect(fx.closes.map((c) => c.code)).toEqual(['protocol-error']);
    expect(errorCode(s)).toBe('connection-closed');
  });
});

describe('packet ids are shared by every acknowledged packet', () => {
  it('SUBSCRIBE, QoS 1 PUBLISH and UNSUBSCRIBE in flight together get distinct ids', async () => {
    const fx = setup();
    await connectFx(fx);
    void fx.session.subscribe([{ topic: 'x', qos: 1 }]);
    void fx.session.publish('a/b', ascii('1'), { qos: 1 });
    void fx.session.unsubscribe(['x']);
    expect(fx.link.takeHex()).toEqual(['8206000100017801', '32080003612f62000231', 'a2050003000178']);
  });
});
