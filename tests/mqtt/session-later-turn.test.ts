// Received bytes are handled on a later job, not inside the transport's onData callback, so the host's read
// callback (and, on a board, its TLS frames) is off the stack before any packet handler runs. Order is kept, and
// a close reported while bytes still wait is handled after them.

import { encodePacket } from '../../src/mqtt/encode';
import { connectFx, received, setup } from './session-fixture';

const publish = (topic: string, packetId: number): Uint8Array =>
  encodePacket({ type: 'publish', topic, payload: new Uint8Array([0x68, 0x69]), qos: 1, dup: false, retain: false, packetId });

describe('a packet handled on a later turn, not inside onData', () => {
  test('during the onData call no handler or event runs; after the turn they have, in arrival order', async () => {
    const fx = setup();
    await connectFx(fx);
    let insideOnData = false;
    const seen: string[] = [];
    fx.session.on('message', (m) => seen.push(`event ${m.topic} inside=${insideOnData}`));
    fx.session.setMessageHandler((m) => {
      seen.push(`handler ${m.topic} inside=${insideOnData}`);
    });

    insideOnData = true;
    fx.link.push(publish('a', 1));
    fx.link.push(publish('b', 2));
    insideOnData = false;
    expect(seen).toEqual([]);
    expect(fx.link.takeHex()).toEqual([]);

    await received();
    expect(seen).toEqual(['event a inside=false', 'handler a inside=false', 'event b inside=false', 'handler b inside=false']);
    expect(fx.link.takeHex()).toEqual(['40020001', '40020002']);
  });

  test('a close reported while received bytes wait comes after them', async () => {
    const fx = setup();
    await connectFx(fx);
    const seen: string[] = [];
    fx.session.setMessageHandler((m) => {
      seen.push(`message ${m.topic}`);
    });
    fx.session.on('close', ({ reason }) => seen.push(`close ${reason.code}`));
    fx.link.push(publish('last', 3));
    fx.link.peerClose();
    expect(seen).toEqual([]);
    expect(fx.session.state).toBe('connected');
    await received();
    expect(seen).toEqual(['message last', 'close peer-closed']);
    expect(fx.link.writesAfterClose).toBe(0);
  });

  test('a CONNACK refusal followed at once by the close still rejects connect() with the refusal', async () => {
    const fx = setup();
    const connecting = fx.session.connect({ tls: { host: 'h', port: 8883, trustedCAs: [] }, clientId: 'dev1', cleanSession: true, keepAlive: 0 });
    fx.link.open();
    fx.link.push('20020005');
    fx.link.peerClose();
    await expect(connecting).rejects.toMatchObject({ returnCode: 5 });
    expect(fx.closes.map((r) => r.code)).toEqual(['connack-refused']);
  });
});
