// Memory budgets in bytes: telemetry pending (waiting plus in flight) is bounded in encoded bytes, checked before
// a message is encoded; incoming messages over the packet, C2D or method limits are refused and reported by kind
// and size ('message-refused', never their content), and the connection goes on.

import { DEVICE, connectFully, publishHex, pubackHex, settle, setupHub, track } from './hub-fixture';
import type { HubClientEvents } from '../../src/hub/hub-types';
import { encodedPublishSize } from '../../src/mqtt/session';

const TELEMETRY = `devices/${DEVICE}/messages/events/`;
/** One encoded QoS 1 telemetry PUBLISH with a 1,000-byte body. */
const MESSAGE_BYTES = encodedPublishSize(TELEMETRY.length, 1000, 1);
const body = (n: number): Uint8Array => new Uint8Array(1000).fill(n);

type Refused = HubClientEvents['message-refused'];

describe('a telemetry burst over the byte budget is refused with queue-full, and nothing queued before it is lost', () => {
  it('accepts while the encoded bytes fit, refuses the rest, and sends every accepted message once acknowledged', async () => {
    const fx = setupHub({ maxPendingTelemetryBytes: 3 * MESSAGE_BYTES, maxInflightTelemetry: 2 });
    await connectFully(fx);
    const sends = [1, 2, 3, 4, 5].map((n) => track(fx.client.sendTelemetry(body(n))));
    await settle();
    expect(sends.slice(3).map((s) => [s.status, s.error?.code])).toEqual([
      ['rejected', 'queue-full'],
      ['rejected', 'queue-full'],
    ]);
    expect(sends[3]!.error?.message).toBe(`${3 * MESSAGE_BYTES} bytes of telemetry are pending; ${MESSAGE_BYTES} more would pass the ${3 * MESSAGE_BYTES}-byte budget`);
    expect(fx.client.pendingTelemetry).toBe(3);
    // Two in flight (the window), the third waiting: all three kept.
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, body(1), 1, 2), publishHex(TELEMETRY, body(2), 1, 3)]);

    fx.link.push(pubackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, body(3), 1, 4)]);
    const after = track(fx.client.sendTelemetry(body(6))); // room again for one
    fx.link.push(pubackHex(3) + pubackHex(4));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex(TELEMETRY, body(6), 1, 5)]);
    fx.link.push(pubackHex(5));
    await settle();
    expect([...sends.slice(0, 3), after].map((s) => s.status)).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
    expect(fx.client.pendingTelemetry).toBe(0);
    await fx.client.close();
  });

  it('waits offline within the budget too, and a message bigger than the whole budget is too-large', async () => {
    const fx = setupHub({ maxPendingTelemetryBytes: 2 * MESSAGE_BYTES });
    const first = track(fx.client.sendTelemetry(body(1)));
    const second = track(fx.client.sendTelemetry(body(2)));
    const third = track(fx.client.sendTelemetry(body(3)));
    const huge = track(fx.client.sendTelemetry(new Uint8Array(3000)));
    await settle();
    expect([first.status, second.status, third.error?.code, huge.error?.code]).toEqual(['pending', 'pending', 'queue-full', 'too-large']);
    await fx.client.close();
  });

  it('a bad budget is a named configuration error', () => {
    expect(() => setupHub({ maxPendingTelemetryBytes: 0 })).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'maxPendingTelemetryBytes' }));
    expect(() => setupHub({ maxIncomingPacketBytes: 100 })).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'maxIncomingPacketBytes' }));
  });
});

describe('incoming messages over the device limits are refused by kind and size, and the connection goes on', () => {
  it('a C2D message over the packet limit is skipped, reported, PUBACKed, and the next one delivered', async () => {
    const fx = setupHub({ maxIncomingPacketBytes: 4096 });
    const refused: Refused[] = [];
    fx.client.on('message-refused', (event) => refused.push(event));
    const delivered: number[] = [];
    fx.client.onC2D((m) => {
      delivered.push(m.payload.length);
    });
    await connectFully(fx);
    const topic = `devices/${DEVICE}/messages/devicebound/%24.mid=big`;
    const big = publishHex(topic, new Uint8Array(10_000), 1, 11);
    fx.link.push(big + publishHex(`devices/${DEVICE}/messages/devicebound/%24.mid=small`, 'ok', 1, 12));
    await settle();
    expect(refused).toEqual([{ kind: 'c2d', size: big.length / 2, limit: 4096 }]);
    expect(delivered).toEqual([2]);
    expect(fx.link.takeHex()).toEqual([pubackHex(11), pubackHex(12)]);
    expect(fx.client.state).toBe('connected');
    await fx.client.close();
  });

  it('a C2D body over maxC2dPayloadBytes is completed unread and reported', async () => {
    const fx = setupHub({ maxC2dPayloadBytes: 100 });
    const refused: Refused[] = [];
    fx.client.on('message-refused', (event) => refused.push(event));
    let delivered = 0;
    fx.client.onC2D(() => {
      delivered++;
    });
    await connectFully(fx);
    fx.link.push(publishHex(`devices/${DEVICE}/messages/devicebound/`, new Uint8Array(101), 1, 5));
    await settle();
    expect([refused, delivered]).toEqual([[{ kind: 'c2d', size: 101, limit: 100 }], 0]);
    expect(fx.link.takeHex()).toEqual([pubackHex(5)]);
    await fx.client.close();
  });

  it('a method request over the limit is answered 413 without running the handler', async () => {
    const fx = setupHub({ maxIncomingPacketBytes: 2048, maxMethodPayloadBytes: 512 });
    const refused: Refused[] = [];
    fx.client.on('message-refused', (event) => refused.push(event));
    let ran = 0;
    fx.client.onMethod('m', () => {
      ran++;
      return { status: 200 };
    });
    await connectFully(fx);
    const reply = (rid: string, size: number, limit: number): string =>
      publishHex(`$iothub/methods/res/413/?$rid=${rid}`, `{"error":"request of ${size} bytes is over the device's ${limit}-byte limit"}`);
    const skipped = publishHex('$iothub/methods/POST/m/?$rid=1', new Uint8Array(5000));
    fx.link.push(skipped);
    fx.link.push(publishHex('$iothub/methods/POST/m/?$rid=2', new Uint8Array(600)));
    await settle();
    expect(ran).toBe(0);
    expect(refused).toEqual([
      { kind: 'method', size: skipped.length / 2, limit: 2048 },
      { kind: 'method', size: 600, limit: 512 },
    ]);
    expect(fx.link.takeHex()).toEqual([reply('1', skipped.length / 2, 2048), reply('2', 600, 512)]);
    await fx.client.close();
  });
});
