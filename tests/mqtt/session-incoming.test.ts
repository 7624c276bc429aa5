import type { IncomingMessage } from '../../src/mqtt/session-types';
import { connectFx, received, settle, setup } from './session-fixture';

/** PUBLISH topic "c", payload "hi", QoS 1 with packet id `id` (DUP optional). */
const inbound1 = (id: number, dup = false): string => `${dup ? '3a' : '32'}0700016300${id.toString(16).padStart(2, '0')}6869`;
const INBOUND0 = '300500016368 69'.replace(/ /g, '');
const puback = (id: number): string => `400200${id.toString(16).padStart(2, '0')}`;

function delayedHandler(fx: ReturnType<typeof setup>, delays: number[], seen: IncomingMessage[]): void {
  let i = 0;
  fx.session.setMessageHandler((m) => {
    seen.push(m);
    const delay = delays[i++] ?? 0;
    return new Promise<void>((resolve) => fx.clock.setTimeout(resolve, delay));
  });
}

describe('incoming QoS 0', () => {
  it('is delivered to the message event and the handler, and not acknowledged', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: IncomingMessage[] = [];
    fx.session.setMessageHandler((m) => {
      seen.push(m);
    });
    fx.link.push(INBOUND0);
    await received();
    expect(seen).toEqual([{ topic: 'c', payload: new Uint8Array([0x68, 0x69]), qos: 0, retain: false, dup: false }]);
    expect(fx.events).toEqual(['message:c']);
    expect(fx.link.takeHex()).toEqual([]);
  });
});

describe('PUBACK only after the handler ran', () => {
  it('acks at once after a synchronous handler', async () => {
    const fx = setup();
    await connectFx(fx);
    const order: string[] = [];
    fx.session.setMessageHandler(() => {
      order.push(`handler, written so far: ${fx.link.written.length}`);
    });
    fx.link.push(inbound1(5));
    await received();
    expect(order).toEqual(['handler, written so far: 1']);
    expect(fx.link.takeHex()).toEqual([puback(5)]);
  });

  it('acks only once the async handler settles', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: IncomingMessage[] = [];
    delayedHandler(fx, [250], seen);
    fx.link.push(inbound1(5));
    await received();
    expect(seen.map((m) => m.packetId)).toEqual([5]);
    await fx.clock.advanceSettled(249);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.link.takeHex()).toEqual([puback(5)]);
  });

  it('sends PUBACKs in arrival order even when handlers finish out of order', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: IncomingMessage[] = [];
    delayedHandler(fx, [100, 10, 50], seen);
    fx.link.push(inbound1(5) + inbound1(6) + inbound1(7));
    await received();
    expect(seen.map((m) => m.packetId)).toEqual([5, 6, 7]);
    await fx.clock.advanceSettled(99);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(1);
    expect(fx.link.takeHex()).toEqual([puback(5), puback(6), puback(7)]);
  });

  it('acks without a handler installed', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push(inbound1(9));
    await received();
    expect(fx.link.takeHex()).toEqual([puback(9)]);
  });

  it('sends no PUBACK when the connection that carried the message is gone', async () => {
    const fx = setup();
    await connectFx(fx);
    delayedHandler(fx, [100], []);
    fx.link.push(inbound1(5));
    await received();
    const first = fx.link;
    first.peerClose();
    await connectFx(fx);
    await fx.clock.advanceSettled(100);
    expect(first.writesAfterClose).toBe(0);
    expect(fx.link.takeHex()).toEqual([]);
  });
});

describe('failing handlers', () => {
  it('a throwing handler is reported on error and the message is still acked', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.session.setMessageHandler(() => {
      throw new Error('boom');
    });
    fx.link.push(inbound1(5));
    await received();
    expect(fx.link.takeHex()).toEqual([puback(5)]);
    expect(fx.errors.map((e) => [e.code, e.message])).toEqual([['handler-failed', 'message handler failed on topic c: boom']]);
    expect((fx.errors[0].cause as Error).message).toBe('boom');
    expect(fx.session.state).toBe('connected');
  });

  it('a rejecting handler is reported on error and the message is acked after it settles', async () => {
    const fx = setup();
    await connectFx(fx);
    let rejectIt: (error: Error) => void = () => undefined;
    fx.session.setMessageHandler(() => new Promise<void>((_resolve, reject) => (rejectIt = reject)));
    fx.link.push(inbound1(5));
    await received();
    expect(fx.link.takeHex()).toEqual([]);
    rejectIt(new Error('nope'));
    await settle();
    expect(fx.link.takeHex()).toEqual([puback(5)]);
    expect(fx.errors.map((e) => e.code)).toEqual(['handler-failed']);
  });

  it('a throwing message listener is reported as listener-failed and does not stop the ack', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.session.on('message', () => {
      throw new Error('listener bug');
    });
    fx.link.push(inbound1(5));
    await received();
    expect(fx.link.takeHex()).toEqual([puback(5)]);
    expect(fx.errors.map((e) => e.code)).toEqual(['listener-failed']);
  });
});

describe('duplicates', () => {
  it('delivers a DUP redelivery again and acks it again (at-least-once)', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: IncomingMessage[] = [];
    fx.session.setMessageHandler((m) => {
      seen.push(m);
    });
    fx.link.push(inbound1(5));
    await received();
    fx.link.push(inbound1(5, true));
    await received();
    expect(seen.map((m) => [m.packetId, m.dup])).toEqual([
      [5, false],
      [5, true],
    ]);
    expect(fx.link.takeHex()).toEqual([puback(5), puback(5)]);
  });

  it('frames packets split across chunks and several packets in one chunk', async () => {
    const fx = setup();
    await connectFx(fx);
    const all = inbound1(1) + inbound1(2);
    fx.link.push(all.slice(0, 4));
    await received();
    fx.link.push(all.slice(4, 22));
    await received();
    expect(fx.link.takeHex()).toEqual([puback(1)]);
    fx.link.push(all.slice(22));
    await received();
    expect(fx.link.takeHex()).toEqual([puback(2)]);
  });
});

describe('protocol errors close the connection', () => {
  it('incoming QoS 2 PUBLISH closes with protocol-error qos2-unsupported, unacked and undelivered', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: IncomingMessage[] = [];
    fx.session.setMessageHandler((m) => {
      seen.push(m);
    });
    fx.link.push('340700016300056869');
    await received();
    expect(fx.session.state).toBe('closed');
    expect(fx.closes).toEqual([expect.objectContaining({ code: 'protocol-error', protocolErrorCode: 'qos2-unsupported' })]);
    expect(seen).toEqual([]);
    expect(fx.link.takeHex()).toEqual([]);
    expect(fx.link.closeReason?.by).toBe('local');
  });

  it.each([
    ['CONNECT', '101000044d5154540400003c000464657631'],
    ['SUBSCRIBE', '8206000100017801'],
    ['UNSUBSCRIBE', 'a20500010001 78'.replace(/ /g, '')],
    ['PINGREQ', 'c000'],
    ['DISCONNECT', 'e000'],
  ])('a broker sending %s is a protocol error', async (name, hex) => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push(hex);
    await received();
    expect(fx.closes).toEqual([{ code: 'protocol-error', protocolErrorCode: 'unexpected-type', message: `bad packet from the broker: a broker must not send ${name}` }]);
  });

  it('a second CONNACK is a protocol error', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push('20020000');
    await received();
    expect(fx.closes.map((c) => c.message)).toEqual(['a second CONNACK arrived']);
  });

  it('malformed bytes close with the codec error code and stop processing the chunk', async () => {
    const fx = setup();
    await connectFx(fx);
    fx.link.push('41020001' + inbound1(5)); // PUBACK with reserved flag bits set, then a PUBLISH
    await received();
    expect(fx.closes).toEqual([expect.objectContaining({ code: 'protocol-error', protocolErrorCode: 'reserved-flags' })]);
    expect(fx.events).toEqual(['state:closed', 'close:protocol-error']);
    expect(fx.link.takeHex()).toEqual([]);
  });
});
