import { MAX_PACKET_ID, PacketIdAllocator } from '../../src/mqtt/packet-ids';
import { ascii, connectFx, received, settle, setup, track } from './session-fixture';

describe('packet id allocation', () => {
  it('starts at 1 and walks forward, not reusing a released id at once', () => {
    const ids = new PacketIdAllocator();
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3]);
    ids.release(2);
    expect(ids.allocate()).toBe(4);
  });

  it('wraps from 65535 to 1', () => {
    const ids = new PacketIdAllocator(MAX_PACKET_ID - 1);
    expect(ids.allocate()).toBe(65535);
    expect(ids.allocate()).toBe(1);
  });

  it('skips ids still in use when it wraps', () => {
    const ids = new PacketIdAllocator(MAX_PACKET_ID - 1);
    ids.reserve(1);
    ids.reserve(2);
    ids.reserve(4);
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([65535, 3, 5]);
  });

  it('returns undefined when all 65535 ids are taken, and recovers when one is released', () => {
    const ids = new PacketIdAllocator();
    for (let i = 0; i < MAX_PACKET_ID; i++) ids.allocate();
    expect(ids.size).toBe(MAX_PACKET_ID);
    expect(ids.allocate()).toBeUndefined();
    ids.release(40_000);
    expect(ids.allocate()).toBe(40_000);
  });

  it('reserve refuses ids out of range or taken', () => {
    const ids = new PacketIdAllocator();
    expect([ids.reserve(0), ids.reserve(65536), ids.reserve(1.5), ids.reserve(7), ids.reserve(7)]).toEqual([false, false, false, true, false]);
    expect(ids.isInUse(7)).toBe(true);
  });

  it('ignores a start point outside 1..65535', () => {
    expect(new PacketIdAllocator(-3).allocate()).toBe(1);
    expect(new PacketIdAllocator(70_000).allocate()).toBe(1);
  });
});

describe('packet ids in a session', () => {
  it('wraps past 65535 and skips an id still held by an unacknowledged SUBSCRIBE', async () => {
    const fx = setup();
    await connectFx(fx);
    const held = track(fx.session.subscribe([{ topic: 'x', qos: 0 }])); // takes id 1, never acked
    for (let id = 2; id <= MAX_PACKET_ID; id++) {
      void fx.session.publish('a/b', ascii('1'), { qos: 1 });
      fx.link.push(new Uint8Array([0x40, 2, id >> 8, id & 0xff]));
      await received();
    }
    fx.link.takeHex();
    void fx.session.publish('a/b', ascii('1'), { qos: 1 });
    expect(fx.link.takeHex()).toEqual(['32080003612f62000231']);
    fx.link.push('9003000100');
    await settle();
    expect(held.status).toBe('resolved');
    expect(fx.session.state).toBe('connected');
  });
});
